"""Worker processes that survive whatever one job does to them.

``concurrent.futures.ProcessPoolExecutor`` breaks as a whole when one worker dies
(every pending job fails with ``BrokenProcessPool``) and waits forever for a
worker that was stopped (``SIGSTOP``). :class:`Pool` runs each job in one of
``n`` spawned worker processes and watches each job on its own:

* a worker that dies costs only the job it was running, which is retried once on
  a fresh worker (a second death is that job's result);
* a job that outlives its deadline (the worker hangs, or was stopped) gets its
  worker killed and an error result;
* :meth:`Pool.close` (also on Ctrl-C) stops every worker: ``SIGTERM`` first, so
  a worker kills its kernels (see :func:`_worker_stop`), then ``SIGKILL``.

On Linux each worker also gets ``SIGTERM`` when the grader itself dies
(``PR_SET_PDEATHSIG``), and sandboxed kernels die with their worker
(``bwrap --die-with-parent``), so no process outlives the grader.
"""

from __future__ import annotations

import collections
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from nnlearn.grading import runner
from nnlearn.grading.sandbox import kill_all

ATTEMPTS = 2  # a job whose worker dies is retried once


@dataclass
class _Task:
    key: Any
    job: Any
    deadline: float  # seconds the job may take
    attempts: int = 0


class _Worker:
    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, os.getpid()), daemon=True)
        self.process.start()
        child.close()
        self.task: _Task | None = None
        self.started = 0.0

    def stop(self) -> None:
        """SIGTERM (the worker kills its kernels and exits), then SIGKILL after 3 s. A
        stopped worker (SIGSTOP) is continued first, or it could not kill its kernels."""
        if self.process.is_alive():
            try:
                os.kill(self.process.pid, signal.SIGCONT)
            except OSError:
                pass
            self.process.terminate()
            self.process.join(3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(3)
        self.conn.close()


class Pool:
    """``n`` worker processes running :func:`nnlearn.grading.runner.run_job`."""

    def __init__(self, n: int):
        self.context = multiprocessing.get_context("spawn")
        self.n = n
        self.workers: list[_Worker] = []

    def run(self, tasks: list[tuple[Any, Any, float]],
            done: Callable[[Any, runner.RunRecord], None]) -> None:
        """Run ``(key, job, deadline seconds)`` tasks; call ``done(key, record)`` for each
        as it finishes (in this process). A job whose worker failed gets a record with
        ``error`` set."""
        queue = collections.deque(_Task(*t) for t in tasks)
        while len(self.workers) < min(self.n, len(queue)):
            self.workers.append(_Worker(self.context))
        busy: list[_Worker] = []
        while queue or busy:
            for worker in self.workers:
                if worker.task is None and queue:
                    worker.task, worker.started = queue.popleft(), time.monotonic()
                    worker.task.attempts += 1
                    try:
                        worker.conn.send(worker.task.job)
                    except OSError:
                        pass  # a dead worker: found below through its sentinel
                    busy.append(worker)
            waits = [w.conn for w in busy] + [w.process.sentinel for w in busy]
            left = min(w.started + w.task.deadline for w in busy) - time.monotonic()
            ready = set(wait(waits, timeout=max(0.0, left)))
            for worker in list(busy):
                task, record = worker.task, None
                if worker.conn in ready:
                    try:
                        record = worker.conn.recv()
                    except (EOFError, OSError):
                        record = None
                if record is not None:
                    worker.task = None
                    busy.remove(worker)
                    done(task.key, record)
                    continue
                late = time.monotonic() - worker.started > task.deadline
                if worker.process.sentinel in ready or worker.conn in ready or late:
                    busy.remove(worker)
                    self._replace(worker)
                    if late:
                        done(task.key, runner.RunRecord(
                            str(task.key), error=f"grading took longer than {task.deadline:g} s"))
                    elif task.attempts < ATTEMPTS:
                        queue.appendleft(task)
                    else:
                        done(task.key, runner.RunRecord(
                            str(task.key), error="the grader's worker process died twice"))

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        self.workers[self.workers.index(worker)] = _Worker(self.context)

    def close(self) -> None:
        """Stop every worker (and so every kernel); safe to call twice."""
        for worker in self.workers:  # all at once: each worker then kills its kernels
            if worker.process.is_alive():
                os.kill(worker.process.pid, signal.SIGCONT)
                worker.process.terminate()
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _worker_main(conn, parent: int) -> None:
    """A worker: run jobs sent on ``conn`` until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's business
    signal.signal(signal.SIGTERM, _worker_stop)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # tasks of killed kernels
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the grader died before prctl
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        record = runner.run_job(job)
        try:
            conn.send(record)
        except OSError:
            return


def _worker_stop(signum, frame) -> None:
    """SIGTERM: kill this worker's kernels at once, then exit."""
    kill_all()
    os._exit(1)
