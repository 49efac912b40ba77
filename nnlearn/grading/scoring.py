"""Scoring: verdicts computed in the grader's process, never in a student's kernel.

A hidden case matches if :func:`nnlearn.exercises.compare.compare` finds the
student's plain output (arrays back from the kernel, nothing executable) equal to
the reference solution's, within the spec's tolerances; in an exercise about
numerical stability (``forbid_warnings``) a case whose call issued a warning fails,
as in the public ``check()``. An exercise earns its
check cell's points only if *every* hidden case matches. All or nothing, not
partial credit, because specs may include fixed edge cases (zeros, N = 1) that
are also public: with partial credit, hard-coding the published outputs would
earn their share. The feedback still says how many cases matched.

Whatever the check cell printed or raised in the student's kernel counts for
nothing, which is why patched ``np.allclose``, always-equal objects, skipped or
rewritten test cells and fake "All tests passed" messages earn nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nnlearn.exercises.compare import compare
from nnlearn.exercises.public import PublicTests
from nnlearn.grading.cases import HiddenTests
from nnlearn.grading.notebook import GradedExercise
from nnlearn.grading.runner import RunRecord
from nnlearn.grading.sandbox import Limits


class GradingSetupError(Exception):
    """The instructor's side is broken (bad solutions, tests or reference run)."""


@dataclass
class ExerciseResult:
    """The grade of one exercise of one submission (what feedback may show)."""

    grade_id: str
    function: str
    title: str
    points: float
    max_points: float
    matched: int
    n_cases: int
    public: str = ""
    problem: str = ""
    case_errors: dict[str, int] = field(default_factory=dict)
    hint: str = ""


@dataclass
class SubmissionResult:
    """The grade of one submission: one gradebook row and one feedback file."""

    submission: str
    assignment: str | None
    exercises: list[ExerciseResult]
    status: str
    seconds: float = 0.0
    review: str = ""  # why a person should look: the instructor's, never in the feedback

    @property
    def full_status(self) -> str:
        """The status with the review flag: what the gradebook and the terminal show."""
        return f"{self.status}; {self.review}" if self.review else self.status

    @property
    def total(self) -> float:
        """Points earned, summed over exercises."""
        return round(sum(e.points for e in self.exercises), 2)

    @property
    def max_total(self) -> float:
        """Points available (0 when the notebook could not be read at all)."""
        return round(sum(e.max_points for e in self.exercises), 2)


@dataclass
class Assignment:
    """An assignment as the grader needs it: template, exercises, hidden tests."""

    name: str
    path: Path
    template: dict  # student_template(solution notebook)
    reference_cells: list[dict]  # the template rebuilt with the solution's own cells
    exercises: list[GradedExercise]
    tests: dict[str, HiddenTests]
    public: list[PublicTests] = field(default_factory=list)  # for the kernel's check cells
    reference: dict[str, list[Any]] | None = None


def score(assignment: Assignment, record: RunRecord, missing: list[str]) -> SubmissionResult:
    """Turn a run record into points and a status (verdicts computed here, not in the kernel)."""
    statuses: list[str] = []
    if record.error:
        statuses.append(f"grader error: {record.error}")
    statuses += [f"exercise cell missing or renamed: {m}" for m in missing]
    for message in [m for _, m in record.problems] + record.notes:
        if message not in statuses:
            statuses.append(message)
    results = []
    for e in assignment.exercises:
        tests = assignment.tests[e.grade_id]
        expected = assignment.reference[e.grade_id]
        received = record.received.get(e.grade_id, [])
        problem = record.blocked.get(e.grade_id, "")
        if e.function in missing:
            problem = "exercise cell missing or renamed"
        matched, errors = 0, {}
        if not problem and not record.error:
            for want, (kind, value) in zip(expected, received, strict=False):  # short = failed
                if kind == "error":
                    errors[value] = errors.get(value, 0) + 1
                    continue
                try:
                    ok = compare(want, value, tests.rtol, tests.atol) is None
                except (TypeError, ValueError):
                    ok = False
                matched += ok
        points = e.points if matched == tests.n_cases and not problem else 0.0
        if points == 0 and not problem and e.grade_id in record.cell_errors:
            statuses.append(f"{record.cell_errors[e.grade_id]} (solution cell {e.function})")
        results.append(ExerciseResult(
            grade_id=e.grade_id, function=e.function, title=tests.title, points=points,
            max_points=e.points, matched=matched, n_cases=tests.n_cases,
            public=record.public.get(e.grade_id, ""), problem=problem, case_errors=errors,
            hint=tests.hint,
        ))
    status = "; ".join(statuses) if statuses else "ok"
    return SubmissionResult("", assignment.name, results, status, record.seconds)


def reference_outputs(
    assignment: Assignment, record: RunRecord, limits: Limits
) -> dict[str, list[Any]]:
    """Expected outputs from the solution notebook's own run; any failure is fatal."""
    trouble = "; ".join(m for _, m in record.problems)
    if record.error:
        trouble = (f"the kernel could not run ({record.error}); is --memory {limits.memory_mb} "
                   "MB enough for a kernel?")
    reference = {}
    for e in assignment.exercises:
        received = record.received.get(e.grade_id)
        bad = [v for kind, v in (received or []) if kind == "error"]
        if trouble or received is None or bad:
            why = trouble or (f"raised {bad[0]}" if bad else "produced no outputs")
            raise GradingSetupError(
                f"The reference solution {assignment.path} failed on the hidden tests of "
                f"{e.function!r}: {why}. Fix the solution notebook (or --tests) and re-run."
            )
        reference[e.grade_id] = [value for _, value in received]
    return reference


def gradebook_columns(results: list[SubmissionResult]) -> list[str]:
    """Exercise columns: every grade_id seen, in order of first appearance."""
    columns: list[str] = []
    for result in results:
        for e in result.exercises:
            if e.grade_id not in columns:
                columns.append(e.grade_id)
    return columns
