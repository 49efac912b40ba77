"""The course's own notebooks through the grader: every ``solutions/*.ipynb`` scores
full marks and every untouched ``exercises/*.ipynb`` scores 0 with status ok.

All of them are graded in one batch (module-scoped) with the course's default
solutions directory, the way an instructor would run ``nnlearn grade``: in the
sandbox, or without it (``--no-sandbox``) where bubblewrap is missing, so these
checks of the course's own notebooks run everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nnlearn.grading.isolation import unavailable

ROOT = Path(__file__).resolve().parents[1]
OK = "not isolated" if unavailable() else "ok"
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9]*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("[0-9]*.ipynb"))


@pytest.fixture(scope="module")
def grades():
    from nnlearn.grading.batch import Options, grade
    from nnlearn.grading.sandbox import Limits

    options = Options(
        solutions=ROOT / "solutions",
        seed=20250101,
        jobs=max(2, os.cpu_count() or 1),
        limits=Limits(cell_timeout=300, notebook_timeout=900, memory_mb=4096),
        isolated=not unavailable(),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NNLEARN_QUICK", "1")
        results = grade(SOLUTIONS + EXERCISES, options)
    return {Path(r.submission): r for r in results}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebook_scores_full_marks(grades, path):
    result = grades[path]
    assert result.full_status == OK
    assert result.max_total > 0 and result.total == result.max_total, [
        (e.function, e.points, e.problem, e.matched, e.n_cases) for e in result.exercises]


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_untouched_exercise_notebook_scores_zero_with_status_ok(grades, path):
    result = grades[path]
    assert (result.total, result.full_status) == (0, OK)
    assert result.max_total > 0
