"""One student kernel: started fresh, limited, guarded, and killed without mercy.

:class:`Sandbox` runs code cells through nbclient (no hand-rolled Jupyter
protocol) and reports each cell's fate as a :class:`CellResult` read from the
kernel's *execute reply* (``status`` ok / error), never from printed text:
a student printing "All tests passed" changes nothing.

Limits
------
* Per-cell timeout: nbclient's ``timeout`` (``interrupt_on_timeout=False``, so a
  timeout raises instead of sending SIGINT, which student code can catch or
  ignore). On a timeout the grader kills the kernel and starts another one.
* Memory, file size, processes: in the sandbox (:mod:`.isolation`) the limits
  are set in the child before ``exec`` and cannot be raised (no capabilities;
  as root a fresh uid). With ``--no-sandbox``, ``RLIMIT_AS`` is set with
  ``prlimit`` right after the kernel starts (``setrlimit`` in the child on
  macOS), which a root kernel could lift. A kernel needs ~1 GB of address space
  once NumPy and Matplotlib are imported, so the limit should not go below
  ~1500 MB. ``RLIMIT_CORE = 0``: no core files.
* Output: the kernel keeps at most ``max_output`` characters of printed text
  per cell (:func:`~nnlearn.grading.kernel_code.install_output_cap`), and this
  side keeps only text (figures become their ``text/plain`` form), at most
  ``max_output`` characters per cell, and refuses Jupyter messages over
  ``MAX_MESSAGE_BYTES``, so whatever a submission prints the grader's memory
  stays bounded. Truncation costs no points; the status mentions it.

Isolation
---------
In the sandbox the kernel runs with its own environment (scratch directory as
``HOME``, ``TMPDIR``, ``IPYTHONDIR``, ``MPLCONFIGDIR``; no variable that says
"grading"), its connection file and Unix sockets in a directory of its own bound
into the sandbox, and nothing of the grader's but what :mod:`.isolation` binds
read-only. As a second layer, before the first cell an audit hook
(:func:`nnlearn.grading.kernel_code.install_guard`) is installed with a silent
execute request (no history, no execution count, no names in the notebook's
namespace); it refuses Python-level file access to the grader's paths and new
processes. It is a speed bump (``ctypes`` bypasses it); the sandbox is the wall.
"""

from __future__ import annotations

import inspect
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import nbformat
import zmq
from jupyter_client.connect import channel_socket_types
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError

from nnlearn.exercises.public import PUBLIC_TESTS_ENV
from nnlearn.exercises.registry import SPECS_ENV
from nnlearn.grading import isolation, kernel_code
from nnlearn.headless import PollingKernelClient

MAX_MESSAGE_BYTES = 64 * 2**20
"""Largest Jupyter message the grader accepts from a kernel (ZeroMQ drops bigger ones), so
the grader's own memory stays bounded whatever a submission prints."""
_ENV_KEPT = ("PATH", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "VIRTUAL_ENV")
_ENV_PREFIXES = ("LC_", "NNLEARN_", "OMP_", "OPENBLAS_", "MKL_")
KERNEL_CODE = inspect.getsource(kernel_code)
_LIVE_GROUPS: set[int] = set()  # process groups of this process's running kernels


def kill_all() -> None:
    """SIGKILL every kernel this process started and has not stopped (e.g. on SIGTERM)."""
    for pgid in list(_LIVE_GROUPS):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
        _LIVE_GROUPS.discard(pgid)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    Parameters
    ----------
    cell_timeout : float
        Seconds one cell may run (``--timeout-cell``).
    notebook_timeout : float
        Seconds for the whole submission, restarts and hidden tests included
        (``--timeout-notebook``).
    memory_mb : int
        Address-space limit of the kernel process in MiB (``--memory``).
    max_output : int
        Characters of output kept per cell.
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory_mb: int = 4096
    max_output: int = 1_000_000


@dataclass
class CellResult:
    """What happened to one cell.

    ``status`` is ``"ok"`` or ``"error"`` (from the execute reply), ``"timeout"``
    or ``"dead"`` (the kernel died). ``outputs`` are nbformat output dicts
    (capped); ``exit_code`` is the dead kernel's exit status when known.
    """

    status: str
    ename: str = ""
    evalue: str = ""
    outputs: list = field(default_factory=list)
    truncated: bool = False
    exit_code: int | None = None

    @property
    def memory_error(self) -> bool:
        """True if the cell raised MemoryError (or a subclass such as NumPy's)."""
        return self.status == "error" and "MemoryError" in self.ename


def _set_limits(setrlimit, limit: int) -> None:
    setrlimit(resource.RLIMIT_AS, (limit, limit))
    setrlimit(resource.RLIMIT_CORE, (0, 0))


PYTHON_KERNEL = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


class _PythonSpecs(KernelSpecManager):
    """Always this interpreter's ipykernel, whatever kernelspecs the user installed
    (``argv``: the kernel command, possibly wrapped in the sandbox)."""

    argv: list[str] = PYTHON_KERNEL

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(argv=list(self.argv), display_name="Python 3", language="python")


class _BoundedClient(PollingKernelClient):
    """A kernel client whose sockets refuse messages above ``MAX_MESSAGE_BYTES`` and that
    never sleeps on one ZeroMQ wake-up for long (see :mod:`nnlearn.headless`)."""

    def _create_connected_socket(self, channel, identity=None):
        sock = self.context.socket(channel_socket_types[channel])
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        if identity:
            sock.identity = identity
        sock.connect(self._make_url(channel))
        return sock


def public_dir(workdir: str) -> str:
    """Where a job's public tests go (see :mod:`nnlearn.exercises.public`)."""
    return os.path.join(workdir, ".nnlearn-public")


def kernel_environment(workdir: str) -> dict[str, str]:
    """The sandboxed kernel's environment: a few of the grader's variables (paths, locale,
    thread counts, ``NNLEARN_*`` but the spec directories) and the scratch directory as
    every home and cache. The check cells read the public tests the grader wrote."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEPT or k.startswith(_ENV_PREFIXES)}
    env.pop(SPECS_ENV, None)
    env[PUBLIC_TESTS_ENV] = public_dir(workdir)
    env.setdefault("PATH", "/usr/bin:/bin")
    for name in ("HOME", "TMPDIR", "PWD"):
        env[name] = workdir
    env["IPYTHONDIR"] = os.path.join(workdir, ".ipython")
    env["MPLCONFIGDIR"] = os.path.join(workdir, ".matplotlib")
    env["JUPYTER_RUNTIME_DIR"] = os.path.join(workdir, ".jupyter")
    return env


class _CappedClient(NotebookClient):
    """nbclient keeping only text outputs, at most ``max_output`` characters per cell.

    Rich outputs (figures, HTML) are reduced to their ``text/plain`` form: the
    grader only ever shows text, and a student's plots must not count as a flood.
    """

    max_output = 1_000_000

    @property
    def marker(self) -> str:
        return "[output truncated after "  # the kernel's cap and this one

    def reset_cap(self) -> None:
        self.kept, self.truncated = 0, False

    def output(self, outs, msg, display_id, cell_index):  # noqa: D102 - nbclient hook
        content = msg.get("content", {})
        data = content.get("data")
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k == "text/plain"}
            msg = {**msg, "content": {**content, "data": data}}
        if self.marker in str(content.get("text", "")):  # the kernel's own cap kicked in
            self.truncated = True
        size = len(str(content.get("text", ""))) + len(str(data or ""))
        size += len(str(content.get("traceback", "")))
        if self.kept + size > self.max_output:
            if not self.truncated:
                note = f"{self.marker}{self.max_output} characters]\n"
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
            self.truncated = True
            return None
        self.kept += size
        return super().output(outs, msg, display_id, cell_index)


class Sandbox:
    """A fresh, limited, guarded kernel running in ``workdir``.

    Parameters
    ----------
    workdir : str
        Empty directory: the kernel's cwd, and the only grader directory it may read.
    private : str
        Grader-private directory for the connection file.
    limits : Limits
    denied : list of str
        Paths the kernel must not access (see ``install_guard``).

    Use as a context manager; :meth:`run` executes one cell.
    """

    def __init__(self, workdir: str, private: str, limits: Limits, denied: list[str],
                 uid: int | None = None, isolated: bool = True):
        self.workdir, self.limits, self.uid, self.isolated = workdir, limits, uid, isolated
        name = f"k-{uuid.uuid4().hex[:12]}"  # short: socket paths
        specs = _PythonSpecs()
        if isolated:  # connection file and sockets in a directory bound into the sandbox
            self.sockets = os.path.join(private, name)
            os.mkdir(self.sockets, 0o700)
            if uid is not None:
                os.chown(self.sockets, uid, uid)
            prefix = os.path.join(self.sockets, "k")
            specs.argv = isolation.kernel_command(
                PYTHON_KERNEL, [workdir, self.sockets], workdir,
                [*denied, *isolation.spec_dirs()], uid)
        else:
            self.sockets, prefix = None, os.path.join(private, name)
        self.km = AsyncKernelManager(
            kernel_name="python3",
            kernel_spec_manager=specs,
            connection_file=prefix + ".json",
            transport="ipc",  # Unix sockets in the private directory: no TCP port races
            ip=prefix,
        )
        self.km.client_factory = _BoundedClient
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
        self.client = _CappedClient(
            nb,
            km=self.km,
            allow_errors=True,
            interrupt_on_timeout=False,
            shutdown_kernel="immediate",
            startup_timeout=60,
            iopub_timeout=10,
        )
        self.client.max_output = limits.max_output
        self.client.on_cell_executed = self._on_executed
        self._reply: dict = {}
        self._start(denied)

    def _start(self, denied: list[str]) -> None:
        limit = int(self.limits.memory_mb) * 2**20
        options: dict = {}
        if self.isolated:
            pairs, uid, connection = isolation.limits(limit, self.uid), self.uid, self.km.connection_file

            def prepare() -> None:  # in the child, before exec: inherited by the sandbox
                if uid is not None:
                    os.chown(connection, uid, uid)
                isolation.apply_limits(pairs)

            options["preexec_fn"] = prepare
            env = kernel_environment(self.workdir)
        else:
            env = {**os.environ, PUBLIC_TESTS_ENV: public_dir(self.workdir)}
            if not hasattr(resource, "prlimit"):  # macOS: set the limits in the child instead
                options["preexec_fn"] = lambda: _set_limits(resource.setrlimit, limit)
        self.client.start_new_kernel(
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **options,
        )
        pgid = getattr(self.km.provisioner, "pgid", None)
        if pgid and pgid != os.getpgrp():
            _LIVE_GROUPS.add(pgid)
        try:
            if not self.isolated and hasattr(resource, "prlimit"):
                pid = self.km.provisioner.pid
                _set_limits(lambda *args: resource.prlimit(pid, *args), limit)
            self.client.start_new_kernel_client()
            code = (
                f"exec(compile({KERNEL_CODE!r} + '\\ninstall_guard(D, A)\\ninstall_output_cap(M)\\n',"
                f" '<nnlearn>', 'exec'), {{'D': {denied!r}, 'A': {[self.workdir]!r}, "
                f"'M': {self.limits.max_output - 1000}}})"  # leaves room for the marker
            )
            msg_id = self.client.kc.execute(code, silent=True, store_history=False)
            reply = self.client.wait_for_reply(msg_id)
            if reply is None or reply["content"]["status"] != "ok":
                raise RuntimeError("could not install the file guard in the kernel")
        except BaseException:
            self.stop()
            raise

    def _on_executed(self, cell, cell_index, execute_reply) -> None:
        self._reply = execute_reply.get("content", {}) if execute_reply else {}

    def run(self, source: str, timeout: float, store_history: bool = True) -> CellResult:
        """Execute ``source`` as one cell with at most ``timeout`` seconds."""
        cell = nbformat.v4.new_code_cell(source)
        self.client.timeout_func = lambda _cell: max(1, math.ceil(timeout))
        self.client.reset_cap()
        self._reply = {}
        try:
            self.client.execute_cell(cell, 0, store_history=store_history)
        except CellTimeoutError:
            return CellResult("timeout", outputs=cell.outputs, truncated=self.client.truncated)
        except Exception as error:  # noqa: BLE001 - DeadKernelError, or zmq / asyncio errors:
            # the kernel is gone or unusable either way; the runner kills it and starts another
            return CellResult(
                "dead", evalue=str(error)[:200], outputs=cell.outputs, exit_code=self.exit_code()
            )
        reply = self._reply
        status = "ok" if reply.get("status") == "ok" else "error"
        return CellResult(
            status,
            ename=str(reply.get("ename", "")),
            evalue=str(reply.get("evalue", ""))[:2000],
            outputs=cell.outputs,
            truncated=self.client.truncated,
        )

    def exit_code(self) -> int | None:
        """The kernel's exit status if it has exited (negative: killed by a signal)."""
        process = getattr(self.km.provisioner, "process", None)
        if process is None:
            return None
        try:
            return process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Kill the kernel (and anything in its process group) and free its resources."""
        provisioner = self.km.provisioner
        pgid = getattr(provisioner, "pgid", None)
        try:
            if self.client.kc is not None:
                self.client.kc.stop_channels()
        except Exception:  # noqa: BLE001 - best effort while tearing down
            pass
        try:
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001
            pass
        if pgid and pgid != os.getpgrp():
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
            _LIVE_GROUPS.discard(pgid)
        try:
            run_sync(self.km.cleanup_resources)()
        except Exception:  # noqa: BLE001
            pass
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)
        self.client.kc = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
