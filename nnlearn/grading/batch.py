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

import concurrent.futures as cf
import hashlib
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nnlearn.grading import cases as hidden
from nnlearn.grading import runner
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
from nnlearn.grading.runner import ExerciseJob, Job, RunRecord, run_job
from nnlearn.grading.sandbox import Limits, kill_all
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


def find_submissions(arguments: list[str]) -> list[Path]:
    """Expand arguments: a directory means every ``*.ipynb`` directly inside it."""
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted(p for p in path.glob("*.ipynb") if p.is_file())
        elif path.is_file():
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
    except (ValueError, TypeError) as error:
        raise GradingSetupError(f"{path}: {error}") from None
    reference_cells, _ = rebuild(template, solution)
    return Assignment(name, path, template, reference_cells, exercises, tests)


def _job(key: str, cells: list[dict], assignment: Assignment, options: Options, denied, root):
    exercises = [
        ExerciseJob(e.grade_id, e.function, e.solution_cell, e.check_cell,
                    assignment.tests[e.grade_id].plain)
        for e in assignment.exercises
    ]
    return Job(key, cells, exercises, options.limits, denied, root)


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
        a reference solution failing its own hidden tests).
    """
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
    done = 0

    reviews: dict[int, list[str]] = {}

    def finish(index: int, result: SubmissionResult) -> None:
        nonlocal done
        result.submission = str(submissions[index])
        if reviews.get(index):  # graded as usual, but a person should look
            result.status += "; review: solution cell " + "; ".join(reviews[index])
        results[index], done = result, done + 1
        if progress is not None:
            progress(done, len(submissions), result)

    for index, path in enumerate(submissions):
        data = path.read_bytes()  # read once; everything below works on these bytes
        digests[path] = hashlib.sha256(data).digest()
        try:
            nb = load_submission(data)
            name = options.assignment or assignment_of(nb) or _guess(path, solutions)
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

    root = tempfile.mkdtemp()
    os.chmod(root, 0o700)
    denied = [str(Path(root).resolve())]
    denied += _protected(options.solutions, "*.ipynb")
    if options.tests is not None:
        denied += _protected(options.tests, "*.py")
    for path in [*options.protect, *submissions, *{p.parent for p in submissions}]:
        denied += _protected(path, "*.ipynb")
    try:
        _run_all(assignments, pending, options, denied, root, finish)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for index, path in enumerate(submissions):
        if hashlib.sha256(path.read_bytes()).digest() != digests[path]:
            results[index].status += "; submission file changed during grading"
    return results


def _guess(path: Path, solutions: dict[str, Path]) -> str | None:
    matches = [name for name in solutions if name in path.stem]
    return matches[0] if len(matches) == 1 else None


def _run_all(assignments, pending, options: Options, denied, root, finish) -> None:
    needed = {name for name, _, _ in pending.values()}
    waiting: dict[str, list[tuple[int, RunRecord]]] = {name: [] for name in needed}
    context = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(options.jobs, mp_context=context, initializer=_worker_init)
    with pool:  # on any exception: cancel what is queued, stop what runs, then wait
        futures: dict[cf.Future, tuple[str, int | None]] = {}
        for name in sorted(needed):
            a = assignments[name]
            job = _job(f"reference:{name}", a.reference_cells, a, options, denied, root)
            futures[pool.submit(run_job, job)] = (name, None)
        for index, (name, cells, _) in pending.items():
            job = _job(str(index), cells, assignments[name], options, denied, root)
            futures[pool.submit(run_job, job)] = (name, index)
        try:
            for future in cf.as_completed(futures):
                name, index = futures[future]
                assignment = assignments[name]
                try:
                    record = future.result()
                except Exception as error:  # noqa: BLE001 - e.g. a worker process died
                    record = RunRecord(str(index), error=f"{type(error).__name__}: {error}")
                if index is None:
                    assignment.reference = reference_outputs(assignment, record, options.limits)
                    for queued, queued_record in waiting.pop(name):
                        finish(queued, score(assignment, queued_record, pending[queued][2]))
                elif assignment.reference is None:
                    waiting[name].append((index, record))
                else:
                    finish(index, score(assignment, record, pending[index][2]))
        except BaseException:  # a broken reference, Ctrl-C: stop everything, kill the kernels
            for future in futures:
                future.cancel()
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
            raise


def _worker_init() -> None:
    """In each worker: Ctrl-C is the parent's business; SIGTERM (the parent stopping the
    batch) kills this worker's kernel at once, then ends the running job with SystemExit,
    which the pool reports as that job's result (so the pool itself stays healthy)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # tasks of killed kernels


def _stop_worker(signum, frame) -> None:
    runner.STOPPING = True  # jobs already queued to this worker return at once
    kill_all()
    raise SystemExit(1)
