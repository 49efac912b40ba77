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


def _naive_sigmoid(directory: Path) -> Path:
    """Lesson 02's solutions with the textbook sigmoid, 1 / (1 + exp(-x)): right values,
    but exp overflows (a RuntimeWarning) on large negative inputs."""
    import nbformat

    nb = nbformat.read(str(ROOT / "solutions" / "02_activations.ipynb"), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "sigmoid":
            cell.source = "def sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n"
    path = directory / "naive_sigmoid.ipynb"
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
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
        naive = _naive_sigmoid(tmp_path_factory.mktemp("class"))
        results = grade([*SOLUTIONS, *EXERCISES, naive], options)
    return {Path(r.submission).stem if r.submission == str(naive) else Path(r.submission): r
            for r in results}


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


def test_a_formula_that_overflows_fails_the_hidden_tests_of_a_stability_exercise(grades):
    """As in the public check: a right value reached through an overflow (a warning) does
    not count where the exercise is about numerical stability; the rest is graded as usual."""
    result = grades["naive_sigmoid"]
    points = {e.function: (e.points, e.max_points) for e in result.exercises}
    sigmoid = next(e for e in result.exercises if e.function == "sigmoid")
    assert sigmoid.points == 0 and sigmoid.case_errors.get("RuntimeWarning", 0) >= 1, sigmoid
    assert "sigmoid" in sigmoid.public and "warning" in sigmoid.public  # check() said so too
    from nnlearn.grading.report import feedback_markdown

    assert "case(s) issued `RuntimeWarning`, which a numerically stable version does not" in (
        feedback_markdown(result))
    # silu_grad reuses the student's sigmoid and is a stability exercise too
    assert [f for f, (p, m) in points.items() if p < m] == ["sigmoid", "silu_grad"], points
