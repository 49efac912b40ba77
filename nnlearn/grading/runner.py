"""Execute one rebuilt notebook and its hidden tests; survive whatever it does.

:func:`run_job` is what a worker process runs for one submission (or for the
reference solution). It never raises: every failure ends up in the returned
:class:`RunRecord`.

Two phases, in one fresh kernel per submission:

A. **The notebook.** Every cell of the rebuilt notebook runs in order. Outputs of
   the check cells are kept as the public-test messages for the feedback (they read
   the public tests from files the grader wrote: the sandbox has no exercise specs).
B. **Hidden tests.** For each exercise the grader writes the hidden inputs to a
   file with an unguessable name, runs :func:`~nnlearn.grading.kernel_code.run_cases`
   in the kernel, and reads back plain arrays (``np.load(allow_pickle=False)``).
   Hidden tests run after every notebook cell, and their outputs are discarded,
   so nothing a student prints can carry hidden inputs into the feedback.

Restart and continue: when a cell times out or kills the kernel (``os._exit``,
a segfault, the memory limit), that cell is marked *fatal*, a new kernel starts,
the notebook prefix is replayed without the fatal cells (and without the check
cells, which only print), and grading continues after it. Only the exercise
whose solution cell, check cell or hidden tests misbehaved loses its points.
A whole-notebook deadline (``Limits.notebook_timeout``) bounds all of this.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnlearn.exercises.compare import from_plain
from nnlearn.exercises.public import PublicTests
from nnlearn.grading import isolation
from nnlearn.grading.results import exception_name, read_results
from nnlearn.grading.sandbox import KERNEL_CODE, CellResult, Limits, Sandbox, public_dir

MAX_MESSAGE = 2000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FILE = re.compile(r"\(\d+\.py, ")
_RUN_CASES = "\nrun_cases(N, I, O, G, W)\n"


@dataclass
class ExerciseJob:
    """What the worker needs to know about one exercise."""

    grade_id: str
    function: str
    solution_cell: int
    check_cell: int
    inputs: dict[str, np.ndarray]  # to_plain(list of kwargs dicts)
    forbid_warnings: bool = False  # a case that warns fails (numerical-stability exercises)


@dataclass
class Job:
    """One notebook to execute (a submission or a reference solution)."""

    key: str
    cells: list[dict]
    exercises: list[ExerciseJob]
    limits: Limits
    denied: list[str]
    private_root: str
    isolated: bool = True  # in the bubblewrap sandbox (see nnlearn.grading.isolation)
    public: list[PublicTests] = field(default_factory=list)  # for the kernel's check cells


@dataclass
class RunRecord:
    """Everything observed while running a :class:`Job`.

    Attributes
    ----------
    problems : list of (grade_id or None, message)
        Failures of the infrastructure kind (timeout, dead kernel, memory, output
        flood, time limit), attributed to an exercise when they happened in its
        solution cell, check cell or hidden tests. They always reach the status.
    blocked : dict
        ``grade_id -> message`` for exercises that score 0 because of a problem.
    notes : list of str
        Things worth a word in the status that cost no points ("output truncated ...").
    cell_errors : dict
        ``grade_id -> "SyntaxError: ..."`` when the solution cell itself raised;
        reported only if the exercise ends with 0 points.
    public : dict
        ``grade_id -> text`` printed / raised by the check cell (public tests).
    received : dict
        ``grade_id -> [("ok", value) | ("error", exception name)]``, one per case.
    """

    key: str
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    cell_errors: dict[str, str] = field(default_factory=dict)
    public: dict[str, str] = field(default_factory=dict)
    received: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # for the status, costing no points
    error: str | None = None
    seconds: float = 0.0


def _text(result: CellResult) -> str:
    """Printed text and error line of a cell, without ANSI colours, capped."""
    parts = []
    for out in result.outputs:
        if out.get("output_type") == "stream":
            parts.append(str(out.get("text", "")))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(str(out.get("data", {}).get("text/plain", "")) + "\n")
    if result.status == "error":
        # check() raises CheckFailed whose message is already a verdict ("✗ ...").
        verdict = result.evalue.startswith("✗")
        parts.append(f"{result.evalue}\n" if verdict else f"{result.ename}: {result.evalue}\n")
    text = _ANSI.sub("", "".join(parts))
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "\n[...]\n"


def _write_new(directory: str, arrays: dict[str, np.ndarray]) -> str:
    """Write ``arrays`` as .npz to a fresh unguessable name (no following symlinks)."""
    path = os.path.join(directory, f"{secrets.token_hex(16)}.npz")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **arrays)
    return path


class _Run:
    """State of one job: the current kernel, fatal cells, deadline."""

    def __init__(self, job: Job, workdir: str, uid: int | None):
        self.job, self.workdir, self.uid = job, workdir, uid
        self.limits = job.limits
        self.deadline = time.monotonic() + self.limits.notebook_timeout
        self.record = RunRecord(job.key)
        self.kernel: Sandbox | None = None
        self.fatal: set[int] = set()
        self.checks = {e.check_cell for e in job.exercises}
        self.owner = {}
        for e in job.exercises:
            self.owner[e.solution_cell] = self.owner[e.check_cell] = e.grade_id
        self.out_of_time = False
        self.upto = len(job.cells)  # cells the notebook phase reached (all, unless out of time)

    # -- helpers -----------------------------------------------------------------------------

    def label(self, index: int) -> str:
        grade_id = (self.job.cells[index].get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")

    def budget(self) -> float:
        return min(self.limits.cell_timeout, self.deadline - time.monotonic())

    def problem(self, grade_id: str | None, message: str) -> None:
        self.record.problems.append((grade_id, message))
        if grade_id is not None and grade_id not in self.record.blocked:
            self.record.blocked[grade_id] = message

    def time_up(self, where: str) -> None:
        if not self.out_of_time:
            self.out_of_time = True
            limit = f"{self.limits.notebook_timeout:g}"
            self.problem(None, f"notebook time limit ({limit} s) reached {where}")

    def kill(self) -> None:
        if self.kernel is not None:
            self.kernel.stop()
            self.kernel = None

    def execute(self, source: str, store_history: bool = True) -> CellResult | None:
        """Run source in the live kernel, or None if the deadline has passed."""
        timeout = self.budget()
        if timeout <= 0:
            return None
        result = self.kernel.run(source, timeout, store_history=store_history)
        if result.status == "timeout" and timeout < self.limits.cell_timeout:
            result.status = "deadline"
        if result.status in ("timeout", "dead", "deadline"):
            self.kill()
        return result

    def failure(self, result: CellResult, where: str) -> str | None:
        """Describe an infrastructure failure of ``result``, or None if there is none."""
        if result.status == "timeout":
            return f"timeout ({self.limits.cell_timeout:g} s) in {where}"
        if result.status == "dead":
            return f"kernel died in {where}{_exit_status(result.exit_code)}"
        if result.memory_error:
            return f"memory limit ({self.limits.memory_mb} MB) in {where}"
        return None

    # -- kernel (re)starts --------------------------------------------------------------------

    def start_kernel(self, attempts: int = 3) -> Sandbox:
        """A new kernel; a failed start (a busy machine, a lost race for a socket) is
        retried, since a submission should not score 0 for the grader's hiccup."""
        for attempt in range(attempts):
            try:
                return Sandbox(self.workdir, self.job.private_root, self.limits, self.job.denied,
                               self.uid, self.job.isolated)
            except Exception:  # noqa: BLE001 - re-raised after the last attempt
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def ensure_kernel(self, upto: int) -> bool:
        """A live kernel that has run cells ``[0, upto)`` (minus fatal and check cells)."""
        while self.kernel is None:
            if self.deadline - time.monotonic() <= 0:
                return False
            self.kernel = self.start_kernel()
            for index in range(upto):
                cell = self.job.cells[index]
                if not _runs(cell) or index in self.fatal or index in self.checks:
                    continue
                result = self.execute(cell.get("source", ""))
                if result is None or result.status == "deadline":
                    self.time_up(f"while re-running {self.label(index)}")
                    return False
                message = self.failure(result, f"{self.label(index)} (on re-run)")
                if result.status in ("timeout", "dead"):
                    self.fatal.add(index)
                    self.problem(self.owner.get(index), message)
                    break  # the kernel is gone: start again without this cell
        return True

    # -- the two phases -----------------------------------------------------------------------

    def stop_notebook(self, index: int) -> None:
        """The notebook's time is up in cell ``index``: that cell and the ones after it do
        not run, so their exercises are not graded; exercises before it keep their credit."""
        self.upto = index
        self.fatal.add(index)
        for e in self.job.exercises:
            if e.solution_cell >= index:
                self.record.blocked.setdefault(e.grade_id, "notebook time limit")

    def notebook(self) -> None:
        cells = self.job.cells
        for index, cell in enumerate(cells):
            if not _runs(cell):
                continue
            if not self.ensure_kernel(index):
                self.time_up(f"before {self.label(index)}")
                self.stop_notebook(index)
                return
            result = self.execute(cell["source"])
            if result is None or result.status == "deadline":
                self.time_up(f"in {self.label(index)}")
                self.stop_notebook(index)
                return
            grade_id = self.owner.get(index)
            if index in self.checks:
                self.record.public[grade_id] = _text(result)
            if result.truncated:
                note = f"output truncated after {self.limits.max_output} characters in " \
                       f"{self.label(index)}"
                self.record.notes.append(note)
            message = self.failure(result, self.label(index))
            if result.status in ("timeout", "dead"):
                self.fatal.add(index)
            if message:
                self.problem(grade_id, message)
            elif result.status == "error" and grade_id and index not in self.checks:
                evalue = _CELL_FILE.sub("(", result.evalue)  # "(3417.py, line 2)" -> "(line 2)"
                name = exception_name(result.ename)
                text = f"{name}: {evalue}" if name == result.ename else name
                self.record.cell_errors[grade_id] = text[:300]

    def hidden_tests(self) -> None:
        """Hidden tests get a time budget of their own (as much as the notebook's), so
        exercises that finished keep their credit when a later cell used up the notebook's."""
        upto = self.upto
        self.deadline = max(self.deadline, time.monotonic() + self.limits.notebook_timeout)
        self.out_of_time = False
        for exercise in self.job.exercises:
            grade_id, where = exercise.grade_id, f"hidden tests for {exercise.function}"
            if grade_id in self.record.blocked:
                continue
            if self.out_of_time or not self.ensure_kernel(upto):
                self.time_up(f"before {where}")
                self.record.blocked.setdefault(grade_id, "notebook time limit")
                continue
            inputs = _write_new(self.workdir, exercise.inputs)
            outputs = os.path.join(self.workdir, f"{secrets.token_hex(16)}.npz")
            code = (
                f"exec(compile({KERNEL_CODE + _RUN_CASES!r}, '<nnlearn>', 'exec'), "
                f"{{'N': {exercise.function!r}, 'I': {inputs!r}, 'O': {outputs!r}, 'G': globals(), "
                f"'W': {exercise.forbid_warnings!r}}})"
            )
            result = self.execute(code, store_history=False)
            _remove(inputs)
            if result is None or result.status == "deadline":
                self.time_up(f"in {where}")
                self.record.blocked.setdefault(grade_id, "notebook time limit")
                _remove(outputs)
                continue
            message = self.failure(result, where)
            if message is None and result.status == "error":
                message = f"{where} could not run ({exception_name(result.ename)})"
            if message is None:
                try:
                    received = read_results(outputs, _n_cases(exercise.inputs))
                except ValueError as error:
                    message = f"{where}: {error}"
                else:
                    if any(v == "MemoryError" for kind, v in received if kind == "error"):
                        message = f"memory limit ({self.limits.memory_mb} MB) in {where}"
                    self.record.received[grade_id] = received
            _remove(outputs)
            if message:
                self.problem(grade_id, message)


def _prepare_scratch(workdir: str, uid: int | None, public: list[PublicTests]) -> None:
    """The kernel's home: owned by its uid, with the public tests its check cells read and
    Matplotlib's font list copied in (building it takes seconds, and a sandboxed kernel
    starts with an empty cache every time)."""
    os.mkdir(public_dir(workdir), 0o755)
    for tests in public:
        os.chmod(tests.save(public_dir(workdir)), 0o644)  # readable by the kernel's uid
    cache = os.environ.get("MPLCONFIGDIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "matplotlib")
    target = os.path.join(workdir, ".matplotlib")
    os.mkdir(target)
    for name in sorted(os.listdir(cache)) if os.path.isdir(cache) else []:
        if name.startswith("fontlist-") and name.endswith(".json"):
            shutil.copyfile(os.path.join(cache, name), os.path.join(target, name))
    if uid is not None:  # bwrap (root without capabilities) must still enter it: 0755 (the
        os.chmod(workdir, 0o755)  # private root above it is 0700, so no one else can)
        for path in (workdir, target, *(os.path.join(target, n) for n in os.listdir(target))):
            os.chown(path, uid, uid)


def job_deadline(limits: Limits) -> float:
    """Seconds after which a job's worker is presumed stuck: the notebook budget, the
    hidden tests' equal budget, and room for kernel starts."""
    return 2 * limits.notebook_timeout + 20


def _exit_status(code: int | None) -> str:
    """`` (exit code 1)``, `` (killed by SIGSEGV)`` or nothing if unknown."""
    if code is None:
        return ""
    if code < 0:
        try:
            return f" (killed by {signal.Signals(-code).name})"
        except ValueError:
            return f" (killed by signal {-code})"
    return f" (exit code {code})"


def _runs(cell: dict) -> bool:
    """Code with something in it, not tagged ``skip-execution`` by the instructor (the
    tags are the instructor's: the template's metadata replaced the student's)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return (
        cell.get("cell_type") == "code"
        and bool(str(cell.get("source", "")).strip())
        and "skip-execution" not in tags
    )


def _n_cases(plain: dict[str, np.ndarray]) -> int:
    return len(from_plain(plain))


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def run_job(job: Job) -> RunRecord:
    """Execute ``job`` in fresh kernels (restarting as needed); never raises."""
    start = time.monotonic()
    workdir = tempfile.mkdtemp(dir=job.private_root)
    os.chmod(workdir, 0o700)
    uid = isolation.new_uid() if job.isolated else None
    _prepare_scratch(workdir, uid, job.public)
    run = _Run(job, workdir, uid)
    try:
        run.notebook()
        run.hidden_tests()
    except Exception as error:  # noqa: BLE001 - a grader bug must not sink the batch
        run.record.error = f"{type(error).__name__}: {error}"[:300]
    finally:
        run.kill()
        shutil.rmtree(workdir, ignore_errors=True)
    run.record.seconds = time.monotonic() - start
    return run.record
