"""Grade a batch of submissions in parallel and score them against the reference.

:func:`grade` is the whole pipeline behind ``nnlearn grade``:

1. Read every submission once (bytes, never written), detect its assignment
   (``--assignment``, else notebook metadata, else a known assignment name in
   the file name) and rebuild it from the instructor's solution notebook.
2. For each assignment, draw the hidden cases from the seed (:mod:`.cases`).
3. Run the reference solution notebook of each assignment and every submission
   as jobs in a ``ProcessPoolExecutor`` (``spawn``: workers share nothing with
   the parent but the job), each job in its own fresh kernel(s). References are
   submitted first and cached per assignment for the run; they are kept in the
   grader's memory only, never written to disk.
4. Score each run in this process (:mod:`.scoring`) as soon as the reference
   of its assignment is known, and report progress.

Every failure of a submission becomes its status; nothing a submission does can
stop the batch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nnlearn.grading import cases as hidden
from nnlearn.grading import isolation, runner
from nnlearn.grading.notebook import (
    NotebookProblem,
    assignment_of,
    graded_exercises,
    library_uses,
    load_submission,
    read_notebook,
    rebuild,
    student_template,
)
from nnlearn.grading.pool import Pool
from nnlearn.grading.runner import ExerciseJob, Job, RunRecord
from nnlearn.grading.sandbox import Limits
from nnlearn.grading.scoring import (
    Assignment,
    GradingSetupError,
    SubmissionResult,
    reference_outputs,
    score,
)


@dataclass(frozen=True)
class Options:
    """Settings of one grading run (see ``nnlearn grade --help``)."""

    solutions: Path
    tests: Path | None = None
    assignment: str | None = None
    seed: int = 0
    jobs: int = 1
    limits: Limits = Limits()
    protect: tuple[Path, ...] = ()  # grader outputs the kernels must not read
    isolated: bool = True  # False: --no-sandbox (no bubblewrap; every status says so)


def find_submissions(arguments: list[str]) -> list[Path]:
    """Expand arguments: a directory means every entry named ``*.ipynb`` directly inside
    it, whatever it is (a directory, FIFO or symbolic link gets a row saying so)."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted(path.glob("*.ipynb"))
        elif os.path.lexists(path):
            paths.append(path)
        else:
            raise FileNotFoundError(
                f"The 'SUBMISSION' argument must be a notebook or a directory. "
                f"Got {argument!r}, which does not exist."
            )
    return paths


def find_solutions(directory: Path) -> dict[str, Path]:
    """``assignment -> solution notebook`` for the notebooks in ``directory``."""
    if not directory.is_dir():
        raise GradingSetupError(
            f"The '--solutions' directory must exist. Got {str(directory)!r} instead."
        )
    found: dict[str, Path] = {}
    for path in sorted(directory.glob("*.ipynb")):
        name = assignment_of(read_notebook(path)) or path.stem
        if name in found:
            raise GradingSetupError(f"{found[name]} and {path} are both assignment {name!r}.")
        found[name] = path
    return found


def _prepare(name: str, path: Path, options: Options, extra, tolerances) -> Assignment:
    solution = read_notebook(path)
    template = student_template(solution)
    try:
        exercises = graded_exercises(template)
        tests = {
            e.grade_id: hidden.draw(e.exercise_id, options.seed, extra, tolerances)
            for e in exercises
        }
        public = [hidden.public(e.exercise_id) for e in exercises]
        public = [tests for tests in public if tests is not None]
    except (ValueError, TypeError) as error:
        raise GradingSetupError(f"{path}: {error}") from None
    reference_cells, _ = rebuild(template, solution)
    return Assignment(name, path, template, reference_cells, exercises, tests, public)


def _job(key: str, cells: list[dict], assignment: Assignment, options: Options, denied, root):
    exercises = [
        ExerciseJob(e.grade_id, e.function, e.solution_cell, e.check_cell,
                    assignment.tests[e.grade_id].plain, assignment.tests[e.grade_id].forbid_warnings)
        for e in assignment.exercises
    ]
    return Job(key, cells, exercises, options.limits, denied, root, options.isolated,
               assignment.public)


def _protected(path: Path, pattern: str) -> list[str]:
    """Paths to deny for ``path``. A directory that holds what a kernel needs (code on
    ``sys.path``, the Python prefix, the temp or home directory) is denied file by file
    (``pattern``) instead, so the kernel can still import nnlearn and NumPy."""
    path = path.resolve()
    if not path.is_dir():
        return [str(path)]
    needed = [*sys.path, sys.prefix, tempfile.gettempdir(), str(Path.home())]
    roots = [Path(p).resolve() for p in needed if p]
    if any(root == path or path in root.parents for root in roots):
        return [str(p.resolve()) for p in path.glob(pattern)]
    return [str(path)]


class Interrupted(Exception):
    """Grading was stopped (Ctrl-C, SIGTERM); ``results`` has a row for every submission,
    those not finished marked ``not graded: interrupted``."""

    def __init__(self, results: list[SubmissionResult]):
        super().__init__("interrupted")
        self.results = results


MAX_NOTEBOOK_BYTES = 32 * 2**20
INTERRUPTED = "not graded: interrupted"


def read_submission(path: Path) -> bytes:
    """The bytes of a submitted notebook; :class:`NotebookProblem` if it is not a regular
    file of bounded size. Symbolic links are not followed (one could point at a
    classmate's notebook or the solutions), FIFOs never block."""
    try:
        info = os.lstat(path)
    except OSError as error:
        raise NotebookProblem(f"cannot read the file ({error.strerror})") from None
    kind = _kind(info.st_mode)
    if kind:
        raise NotebookProblem(f"not a notebook file but {kind}; not graded")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise NotebookProblem(f"cannot read the file ({error.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if _kind(info.st_mode) or info.st_size > MAX_NOTEBOOK_BYTES:
            mb = MAX_NOTEBOOK_BYTES // 2**20
            raise NotebookProblem(f"notebook larger than {mb} MB (clear its outputs); not graded")
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(f"notebook larger than {MAX_NOTEBOOK_BYTES // 2**20} MB; not graded")
    return data


def _kind(mode: int) -> str:
    """What a non-regular file is ("a directory"...), or "" for a regular file."""
    for test, name in ((stat.S_ISLNK, "a symbolic link (not followed)"),
                       (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "" if stat.S_ISREG(mode) else "not a regular file"


def grade(
    submissions: list[Path],
    options: Options,
    progress: Callable[[int, int, SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade ``submissions``; one :class:`SubmissionResult` per path, in order.

    Raises
    ------
    GradingSetupError
        When the instructor's material is unusable (no solution notebook for any
        submission, malformed check cells, hidden cases that are not plain data,
        a reference solution failing its own hidden tests), or no sandbox is
        available and ``options.isolated``.
    Interrupted
        On Ctrl-C / SIGTERM, with the results so far (every kernel is killed first).
    """
    if options.isolated and isolation.unavailable():
        raise GradingSetupError(f"{isolation.unavailable()}: {isolation.INSTALL_HINT}.")
    solutions = find_solutions(options.solutions)
    if options.assignment is not None and options.assignment not in solutions:
        raise GradingSetupError(
            f"The '--assignment' parameter must be one of {sorted(solutions)} (the notebooks in "
            f"{options.solutions}). Got {options.assignment!r} instead."
        )
    extra, tolerances = hidden.load_test_files(options.tests)
    digests: dict[Path, bytes] = {}
    results: list[SubmissionResult | None] = [None] * len(submissions)
    pending: dict[int, tuple[str, list[dict], list[str]]] = {}
    assignments: dict[str, Assignment] = {}
    reviews: dict[int, list[str]] = {}
    done = 0

    def finish(index: int, result: SubmissionResult) -> None:
        nonlocal done
        result.submission = str(submissions[index])
        if reviews.get(index):  # graded as usual, but a person should look
            result.review = "review: solution cell " + "; ".join(reviews[index])
        if not options.isolated:
            result.status = "not isolated" if result.status == "ok" else (
                result.status + "; not isolated")
        results[index], done = result, done + 1
        if progress is not None:
            progress(done, len(submissions), result)

    for index, path in enumerate(submissions):
        try:
            data = read_submission(path)  # read once; everything below works on these bytes
            digests[path] = hashlib.sha256(data).digest()
            nb = load_submission(data)
            named = assignment_of(nb)
            if options.assignment and named and named != options.assignment:
                raise NotebookProblem(f"the notebook is assignment {named!r}, not "
                                      f"{options.assignment!r} (--assignment); not graded")
            name = options.assignment or named or _guess(path, solutions)
            if name is None:
                raise NotebookProblem("unknown assignment (no nnlearn metadata; use --assignment)")
            if name not in solutions:
                raise NotebookProblem(f"no solution notebook for assignment {name!r}")
            if name not in assignments:
                assignments[name] = _prepare(name, solutions[name], options, extra, tolerances)
            cells, missing = rebuild(assignments[name].template, nb)
            pending[index] = (name, cells, missing)
            reviews[index] = library_uses(cells)
        except NotebookProblem as problem:
            finish(index, SubmissionResult("", None, [], str(problem)))

    root = tempfile.mkdtemp(prefix="nnlearn-grade-", dir=_short_temp_dir())
    os.chmod(root, 0o700)
    denied = [str(Path(root).resolve())]
    denied += _protected(options.solutions, "*.ipynb")
    if options.tests is not None:
        denied += _protected(options.tests, "*.py")
    for path in [*options.protect, *submissions, *{p.parent for p in submissions}]:
        denied += _protected(path, "*.ipynb")
    try:
        _run_all(assignments, pending, options, denied, root, finish)
    except KeyboardInterrupt:
        for index, result in enumerate(results):
            if result is None:
                results[index] = SubmissionResult(str(submissions[index]), None, [], INTERRUPTED)
        raise Interrupted(results) from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for index, path in enumerate(submissions):
        try:
            changed = hashlib.sha256(read_submission(path)).digest() != digests.get(path)
        except NotebookProblem:
            changed = path in digests
        if changed and path in digests:
            results[index].status += "; submission file changed during grading"
    return results


def _guess(path: Path, solutions: dict[str, Path]) -> str | None:
    matches = [name for name in solutions if name in path.stem]
    return matches[0] if len(matches) == 1 else None


def _run_all(assignments, pending, options: Options, denied, root, finish) -> None:
    """References first (no student code runs before every reference output is known),
    then the submissions; each scored in this process as soon as its run is back."""
    needed = sorted({name for name, _, _ in pending.values()})
    deadline = runner.job_deadline(options.limits)
    with Pool(options.jobs) as pool:
        references = [(name, _job(f"reference:{name}", assignments[name].reference_cells,
                                  assignments[name], options, denied, root), deadline)
                      for name in needed]

        def reference_done(name: str, record: RunRecord) -> None:
            assignments[name].reference = reference_outputs(assignments[name], record,
                                                            options.limits)

        pool.run(references, reference_done)
        tasks = [(index, _job(str(index), cells, assignments[name], options, denied, root),
                  deadline) for index, (name, cells, _) in pending.items()]

        def submission_done(index: int, record: RunRecord) -> None:
            name, _, missing = pending[index]
            finish(index, score(assignments[name], record, missing))

        pool.run(tasks, submission_done)


def _short_temp_dir() -> str:
    """Where the batch's private directory goes: the kernels' Unix sockets live in it, and a
    socket path may be at most 107 bytes, so a long TMPDIR (under pytest, say) falls back to /tmp."""
    base = tempfile.gettempdir()
    if len(base) > 50 and os.path.isdir("/tmp") and os.access("/tmp", os.W_OK):
        return "/tmp"
    return base
