"""End-to-end tests of ``nnlearn grade`` on the toy assignment ``00_toy``.

One batch (module-scoped, run through the real command line in a subprocess)
grades good, broken and tampering submissions side by side; each test checks
one promise of the grader on that shared run. Broken and tampering notebooks
are generated here from the fixture's exercise notebook by replacing the source
of a solution cell, so they follow the exercise format as it evolves.

``add_one`` (2 points) is the exercise most submissions break or cheat on;
``square`` (3 points) is answered correctly, to show the damage stays local.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from nnlearn.grading.isolation import unavailable

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
pytestmark = pytest.mark.skipif(bool(unavailable()), reason=f"no sandbox: {unavailable()}")
SOLUTION = FIXTURES / "solutions" / "00_toy.ipynb"
EXERCISE = FIXTURES / "exercises" / "00_toy.ipynb"
SEED = 12345
CELL_TIMEOUT = 8
ENV = {**os.environ, "NNLEARN_EXERCISE_SPECS": str(FIXTURES / "specs")}

GOOD_ADD_ONE = "def add_one(x):\n    return x + 1.0\n"
GOOD_SQUARE = "def square(x):\n    return x * x\n"
WRONG_ADD_ONE = "def add_one(x):\n    return x\n"


def _notebook(source: Path = EXERCISE, **cells: str) -> nbformat.NotebookNode:
    """The exercise notebook with the given solution-cell sources (``grade_id=source``)."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in cells and cell.metadata["nbgrader"].get("solution"):
            cell.source = textwrap.dedent(cells[grade_id])
    return nb


def _answer(add_one: str = GOOD_ADD_ONE, square: str = GOOD_SQUARE) -> nbformat.NotebookNode:
    return _notebook(add_one=add_one, square=square)


def _without(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nb


def _retagged() -> nbformat.NotebookNode:
    """Wrong add_one; every test cell tagged to be skipped, emptied or turned into markdown."""
    nb = _answer(add_one=WRONG_ADD_ONE)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
            meta["points"] = 100
            if meta["grade_id"] == "check_add_one":
                cell.source = "pass"
            else:
                cell.cell_type = "markdown"
                cell.pop("outputs", None)
                cell.pop("execution_count", None)
    return nb


def _renamed() -> nbformat.NotebookNode:
    nb = _answer()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "add_one":
            cell.metadata["nbgrader"]["grade_id"] = "add_one_v2"
    return nb


def _submissions(sub: Path) -> dict[str, object]:
    """name -> notebook (or raw bytes) of every submission in the shared batch."""
    secret_paths = [str(SOLUTION), str(sub / "good.ipynb"), str(FIXTURES / "hidden" / "toy_extra.py")]
    grading_env = ["NBGRADER_EXECUTION", "NNLEARN_GRADING", "GRADING", "OTTER_GRADING", "AUTOGRADER"]
    return {
        "good": nbformat.read(str(SOLUTION), as_version=4),
        "untouched": nbformat.read(str(EXERCISE), as_version=4),
        "answered": _answer(),
        # -- broken ------------------------------------------------------------------------
        "invalid_json": b'{"cells": [',
        "empty": b"",
        "loop_forever": _answer(add_one="while True:\n    pass\n" + GOOD_ADD_ONE),
        "os_exit": _answer(add_one="import os\nos._exit(1)\n" + GOOD_ADD_ONE),
        "memory_hog": _answer(add_one=GOOD_ADD_ONE + "hog = bytearray(64 * 2**30)\n"),
        "syntax_error": _answer(add_one="def add_one(x)\n    return x + 1.0\n"),
        "deleted_cell": _without(_answer(), "add_one"),
        "renamed_cell": _renamed(),
        "print_flood": _answer(add_one=GOOD_ADD_ONE + "print('x' * 10_000_000)\n"),
        "hidden_crash": _answer(add_one="""
            import os
            def add_one(x):
                if x.shape == (7, 2):  # only the instructor's extra hidden case has this shape
                    os._exit(1)
                return x + 1.0
            """),
        "hidden_loop": _answer(add_one="""
            def add_one(x):
                while x.shape == (7, 2):
                    pass
                return x + 1.0
            """),
        # -- tampering ---------------------------------------------------------------------
        "monkeypatch": _answer(add_one="""
            import builtins, math
            import numpy as np
            import nnlearn.exercises.compare as compare_module
            np.allclose = lambda *args, **kwargs: True
            np.isclose = lambda a, b, **kwargs: np.ones(np.broadcast(a, b).shape, bool)
            np.array_equal = lambda *args, **kwargs: True
            math.isclose = lambda *args, **kwargs: True
            builtins.all = lambda *args: True
            builtins.any = lambda *args: True
            compare_module.compare = lambda *args, **kwargs: None
            compare_module._compare_arrays = lambda *args, **kwargs: None
            def add_one(x):
                return x
            """),
        "always_equal": _answer(add_one="""
            class AlwaysEqual:
                def __eq__(self, other):
                    return True
                def __ne__(self, other):
                    return False
                __hash__ = object.__hash__
            def add_one(x):
                return AlwaysEqual()
            """, square="""
            import numpy as np
            class Yes(np.ndarray):
                def __eq__(self, other):
                    return np.ones(self.shape, bool)
            def square(x):
                return np.zeros_like(x).view(Yes)
            """),
        "retagged_tests": _retagged(),
        "ast_transformer": _answer(add_one="""
            import ast
            class StripChecks(ast.NodeTransformer):
                def visit_Assert(self, node):
                    return None
                def visit_Raise(self, node):
                    return ast.Pass()
            get_ipython().ast_transformers.append(StripChecks())
            def add_one(x):
                return x
            """),
        "blank_later_cells": _answer(add_one="""
            get_ipython().input_transformers_post.append(lambda lines: [])
            def add_one(x):
                return x
            """),
        "replace_checker": _answer(add_one="""
            import nnlearn.exercises
            import nnlearn.exercises.check as check_module
            def fake_check(exercise_id, function):
                print("✓ passed all public tests")
            nnlearn.exercises.check = check_module.check = check = fake_check
            def add_one(x):
                return x
            """),
        "prints_passed": _answer(add_one="""
            print("All tests passed")
            def add_one(x):
                print("All tests passed")
                return x
            """),
        "reads_files": _answer(add_one=f"""
            import json, os
            def _steal():
                for path in {secret_paths!r} + ["../", "/proc/{{}}/environ".format(os.getppid())]:
                    try:
                        with open(path) as f:
                            return f.read()
                    except OSError:
                        pass
                    try:
                        return os.listdir(path)
                    except OSError:
                        pass
                return None
            def add_one(x):
                return x + 1.0 if _steal() else x
            """, square=f"""
            import os
            def square(x):
                try:  # copy a classmate's notebook, then overwrite the submission itself
                    with open({str(sub / "good.ipynb")!r}, "rb") as f:
                        f.read()
                    with open({str(sub / "reads_files.ipynb")!r}, "ab") as f:
                        f.write(b"tampered")
                except OSError:
                    return x
                return x * x
            """),
        "env_no_tell": _answer(add_one=f"""
            import os
            def add_one(x):
                tells = [k for k in {grading_env!r} if k in os.environ]
                return x + 1.0 + len(tells)
            """),
        "env_cheat": _answer(square=f"""
            import os
            class AlwaysEqual:
                __eq__ = lambda self, other: True
            def square(x):
                if any(k in os.environ for k in {grading_env!r}):
                    return AlwaysEqual()
                raise NotImplementedError("only cheats when graded")
            """),
        "hardcoded_public": _answer(add_one="""
            import numpy as np
            from nnlearn.exercises import PUBLIC_SEED, get_exercise
            _PUBLISHED = {c["x"].tobytes(): c["x"] + 1.0
                          for c in get_exercise("toy.add_one").cases(PUBLIC_SEED)}
            def add_one(x):
                return _PUBLISHED.get(np.asarray(x).tobytes(), np.zeros_like(x))
            """),
        "calls_reference": _answer(add_one="""
            from nnlearn.exercises import get_exercise
            def add_one(x):
                return get_exercise("toy.add_one").reference(x=x)
            """),
        "prints_inputs": _answer(add_one="""
            def add_one(x):
                print("my input:", x.tolist())
                return x + 1.0
            """),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission in one run of ``nnlearn grade --jobs 2``."""
    root = tmp_path_factory.mktemp("grading")
    sub, out = root / "submissions", root / "out"
    sub.mkdir()
    out.mkdir()
    for name, nb in _submissions(sub).items():
        data = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
        (sub / f"{name}.ipynb").write_bytes(data)
    (out / "grades.csv").write_text("previous run\n")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sub.iterdir()}
    command = [
        sys.executable, "-m", "nnlearn.cli", "grade", str(sub),
        "--solutions", str(FIXTURES / "solutions"), "--tests", str(FIXTURES / "hidden"),
        "--out", str(out / "grades.csv"), "--feedback", str(out / "feedback"),
        "--jobs", "2", "--timeout-cell", str(CELL_TIMEOUT), "--timeout-notebook", "60",
        "--memory", "2048", "--seed", str(SEED),
    ]  # fmt: skip
    start = time.monotonic()
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    with open(out / "grades.csv", newline="") as f:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sub.iterdir()}
    return {"done": done, "rows": rows, "out": out, "sub": sub, "before": before,
            "after": after, "seconds": seconds}


def _row(batch, name):
    return batch["rows"][name]


def _points(batch, name):
    row = _row(batch, name)
    return float(row["check_add_one"] or 0), float(row["check_square"] or 0)


# -- the command --------------------------------------------------------------------------


def test_command_succeeds_with_one_row_per_submission(batch):
    assert batch["done"].returncode == 0, batch["done"].stderr
    assert set(batch["rows"]) == {p.stem for p in batch["sub"].glob("*.ipynb")}
    print(f"batch of {len(batch['rows'])} graded in {batch['seconds']:.1f} s")


def test_gradebook_columns(batch):
    with open(batch["out"] / "grades.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["submission", "assignment", "check_add_one", "check_square",
                      "total", "max_total", "status"]


def test_gradebook_replaced_atomically(batch):
    assert "previous run" not in (batch["out"] / "grades.csv").read_text()
    assert [p.name for p in batch["out"].iterdir() if p.name.endswith(".tmp")] == []


def test_progress_lines_and_summary(batch):
    lines = [line for line in batch["done"].stderr.splitlines() if line.startswith("[")]
    assert len(lines) == len(batch["rows"])
    assert lines[-1].startswith(f"[{len(batch['rows'])}/{len(batch['rows'])}]")
    summary = batch["done"].stdout
    assert f"Graded {len(batch['rows'])} submission(s)" in summary
    assert "mean" in summary and "min" in summary and "max" in summary
    not_ok = sum(r["status"] != "ok" for r in batch["rows"].values())
    assert f"{not_ok} not ok" in summary


def test_submissions_are_never_modified(batch):
    assert batch["before"] == batch["after"]


# -- good submissions ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["good", "answered", "prints_inputs"])
def test_correct_answers_score_full_marks(batch, name):
    row = _row(batch, name)
    assert (row["assignment"], row["total"], row["max_total"], row["status"]) == (
        "00_toy", "5", "5", "ok")


def test_untouched_exercise_scores_zero_with_status_ok(batch):
    row = _row(batch, "untouched")
    assert (row["total"], row["max_total"], row["status"]) == ("0", "5", "ok")


# -- broken submissions: 0 on the affected item, the right status, the rest graded ----------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("invalid_json", "invalid JSON"),
        ("empty", "empty file"),
    ],
)
def test_unreadable_submissions(batch, name, status):
    row = _row(batch, name)
    assert row["status"].startswith(status)
    assert row["total"] == "0"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("loop_forever", f"timeout ({CELL_TIMEOUT} s) in cell 4 (add_one)"),
        ("os_exit", "kernel died in cell 4 (add_one) (exit code 1)"),
        ("memory_hog", "memory limit (2048 MB) in cell 4 (add_one)"),
        ("syntax_error", "SyntaxError"),
        ("deleted_cell", "exercise cell missing or renamed: add_one"),
        ("renamed_cell", "exercise cell missing or renamed: add_one"),
        ("hidden_crash", "kernel died in hidden tests for add_one"),
        ("hidden_loop", f"timeout ({CELL_TIMEOUT} s) in hidden tests for add_one"),
    ],
)
def test_broken_submission_loses_only_the_affected_item(batch, name, status):
    row = _row(batch, name)
    assert status in row["status"]
    assert _points(batch, name) == (0, 3), row


def test_big_output_is_truncated_and_costs_nothing(batch):
    row = _row(batch, "print_flood")
    assert _points(batch, "print_flood") == (2, 3), row
    assert "output truncated after 1000000 characters in cell 4 (add_one)" in row["status"]
    text = (batch["out"] / "feedback" / "print_flood.md").read_text()
    assert len(text) < 20_000


# -- tampering earns nothing --------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["monkeypatch", "always_equal", "retagged_tests", "ast_transformer", "blank_later_cells",
     "replace_checker", "prints_passed", "reads_files", "hardcoded_public"],
)
def test_tampering_earns_nothing(batch, name):
    assert _points(batch, name)[0] == 0


def test_the_reference_is_out_of_reach_and_flagged_for_review(batch):
    """The sandbox has no exercise specs (the check cells read the public tests as data):
    calling the registry's reference fails, and the attempt is flagged for the instructor."""
    row = _row(batch, "calls_reference")
    assert _points(batch, "calls_reference") == (0, 3)
    feedback = (batch["out"] / "feedback" / "calls_reference.md").read_text()
    assert "No exercise is registered under 'toy.add_one'" in feedback  # its public check
    assert "review: solution cell add_one (imports nnlearn.exercises, uses .reference, uses get_exercise)" in (
        row["status"])
    assert "review" not in _row(batch, "good")["status"]


def test_always_equal_ndarray_subclass_earns_nothing(batch):
    assert _points(batch, "always_equal")[1] == 0


def test_rebuilt_test_cells_ignore_students_metadata(batch):
    """Re-typed / re-tagged / emptied check cells ran as the instructor wrote them."""
    assert _points(batch, "retagged_tests") == (0, 3)
    assert _row(batch, "retagged_tests")["max_total"] == "5"
    text = (batch["out"] / "feedback" / "retagged_tests.md").read_text()
    assert "✓ square passed" in text and "add_one" in text


def test_files_outside_the_submission_are_unreadable(batch):
    assert _points(batch, "reads_files") == (0, 0)


def test_no_environment_variable_reveals_grading(batch):
    assert _points(batch, "env_no_tell") == (2, 3)
    assert _points(batch, "env_cheat") == (2, 0)


# -- feedback -----------------------------------------------------------------------------


def test_feedback_per_submission(batch):
    feedback = batch["out"] / "feedback"
    assert {p.stem for p in feedback.glob("*.md")} == set(batch["rows"])
    text = (feedback / "untouched.md").read_text()
    assert "add_one: 0 / 2 points" in text and "square: 0 / 3 points" in text
    assert "not implemented yet" in text  # the public check's message
    good = (feedback / "good.md").read_text()
    assert "✓ add_one passed" in good and "Hidden tests: 5 of 5 cases" in good


def test_feedback_never_shows_hidden_inputs_or_the_solution(batch):
    from nnlearn.grading.cases import draw, load_test_files

    os.environ.setdefault("NNLEARN_EXERCISE_SPECS", ENV["NNLEARN_EXERCISE_SPECS"])
    extra, tolerances = load_test_files(FIXTURES / "hidden")
    hidden = draw("toy.add_one", SEED, extra, tolerances)
    from nnlearn.exercises.compare import from_plain

    values = [repr(float(v)) for case in from_plain(hidden.plain) for v in case["x"].ravel()]
    values = [v for v in values if len(v) > 8]  # skip 0.0 and short numbers
    assert values
    for path in (batch["out"] / "feedback").glob("*.md"):
        text = path.read_text()
        assert "reference-marker" not in text and "return x + 1.0" not in text, path
        assert not [v for v in values if v in text], path
    assert "my input:" in (batch["out"] / "feedback" / "prints_inputs.md").read_text()


def test_big_output_is_capped_in_feedback(batch):
    assert all(p.stat().st_size < 200_000 for p in (batch["out"] / "feedback").glob("*.md"))


def test_statuses_are_single_lines(batch):
    """Statuses are one line each and name the cell, never a traceback."""
    for row in batch["rows"].values():
        assert "\n" not in row["status"] and "Traceback" not in row["status"]
