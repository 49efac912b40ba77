"""Unit tests of the grader's parts that need no kernel (fast).

Reading and rebuilding submissions, hidden cases, reading kernel outputs
defensively, scoring, the gradebook and feedback files, the file guard (in a
plain subprocess) and argument validation.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlearn.exercises.compare import from_plain, to_plain
from nnlearn.exercises.registry import PUBLIC_SEED
from nnlearn.grading import cases as hidden
from nnlearn.grading import report
from nnlearn.grading.batch import find_submissions
from nnlearn.grading.notebook import (
    NotebookProblem,
    assignment_of,
    graded_exercises,
    load_submission,
    nbgrader_meta,
    rebuild,
    student_template,
)
from nnlearn.grading.runner import RunRecord, _exit_status, read_results
from nnlearn.grading.sandbox import KERNEL_CODE
from nnlearn.grading.scoring import (
    Assignment,
    ExerciseResult,
    SubmissionResult,
    gradebook_columns,
    score,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
SOLUTION = FIXTURES / "solutions" / "00_toy.ipynb"
EXERCISE = FIXTURES / "exercises" / "00_toy.ipynb"


@pytest.fixture(autouse=True)
def toy_specs(monkeypatch):
    monkeypatch.setenv("NNLEARN_EXERCISE_SPECS", str(FIXTURES / "specs"))


@pytest.fixture
def template():
    return student_template(nbformat.read(str(SOLUTION), as_version=4))


def _exercise() -> nbformat.NotebookNode:
    return nbformat.read(str(EXERCISE), as_version=4)


def _by_id(cells, grade_id):
    return next(c for c in cells if nbgrader_meta(c).get("grade_id") == grade_id)


# -- reading submissions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b'{"cells": [', "invalid JSON (line 1, column 12)"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"[1, 2]", "not a notebook"),
        (b'{"cells": "none"}', "not a notebook"),
    ],
)
def test_unreadable_submissions_raise_their_status(data, status):
    with pytest.raises(NotebookProblem, match=status.replace("(", r"\(").replace(")", r"\)")):
        load_submission(data)


def test_assignment_from_metadata():
    nb = load_submission(EXERCISE.read_bytes())
    assert assignment_of(nb) == "00_toy"
    assert assignment_of({"metadata": {"nnlearn": "00_toy"}}) is None
    assert assignment_of({"metadata": []}) is None


# -- the instructor's copy and the rebuild ------------------------------------------------


def test_student_template_drops_solution_only_cells_and_hidden_tests(template):
    sources = [c.source for c in template.cells]
    assert not any("solution-only" in s for s in sources)
    assert not any("HIDDEN TESTS" in s for s in sources)
    assert [c.source for c in _exercise().cells if c.cell_type == "code"] != []
    assert len(template.cells) == len(_exercise().cells)


def test_graded_exercises(template):
    found = graded_exercises(template)
    assert [(e.grade_id, e.function, e.exercise_id, e.points) for e in found] == [
        ("check_add_one", "add_one", "toy.add_one", 2.0),
        ("check_square", "square", "toy.square", 3.0),
    ]
    assert template.cells[found[0].solution_cell].metadata.nbgrader.grade_id == "add_one"


def test_graded_exercises_rejects_check_cell_without_points(template):
    nb = copy.deepcopy(template)
    _by_id(nb.cells, "check_square").metadata.nbgrader.points = "three"
    with pytest.raises(ValueError, match="points >= 0"):
        graded_exercises(nb)


def test_rebuild_takes_only_solution_sources(template):
    sub = _exercise()
    _by_id(sub.cells, "add_one").source = "def add_one(x):\n    return x + 1"
    check = _by_id(sub.cells, "check_add_one")
    check.source, check.metadata["tags"] = "pass", ["skip-execution", "raises-exception"]
    check.metadata.nbgrader["points"] = 99
    sub.cells[0].source = "# edited"
    sub.cells.insert(2, nbformat.v4.new_code_cell("print('extra cell')"))
    cells, missing = rebuild(template, sub)
    assert missing == []
    assert len(cells) == len(template.cells)
    for new, old in zip(cells, template.cells, strict=True):
        if nbgrader_meta(old).get("solution"):
            continue
        assert (new["source"], new["cell_type"], new["metadata"]) == (
            old.source, old.cell_type, old.metadata)
    assert _by_id(cells, "add_one")["source"] == "def add_one(x):\n    return x + 1"
    assert _by_id(cells, "square")["source"] == _by_id(sub.cells, "square").source


def test_rebuild_retyped_solution_cell_runs_as_code(template):
    sub = _exercise()
    cell = _by_id(sub.cells, "add_one")
    cell.cell_type = "markdown"
    cells, _ = rebuild(template, sub)
    assert _by_id(cells, "add_one")["cell_type"] == "code"


def test_rebuild_reports_missing_and_renamed_cells(template):
    sub = _exercise()
    sub.cells = [c for c in sub.cells if nbgrader_meta(c).get("grade_id") != "add_one"]
    _by_id(sub.cells, "square").metadata.nbgrader.grade_id = "square2"
    cells, missing = rebuild(template, sub)
    assert missing == ["add_one", "square"]
    assert "def " not in _by_id(cells, "add_one")["source"]


def test_rebuild_copes_with_malformed_metadata(template):
    sub = _exercise()
    sub.cells[3]["metadata"] = ["not", "a", "dict"]
    sub.cells[4]["metadata"] = {"nbgrader": "broken"}
    cells, missing = rebuild(template, sub)
    assert len(cells) == len(template.cells)


def test_rebuild_of_the_solution_is_the_solution():
    solution = nbformat.read(str(SOLUTION), as_version=4)
    template = student_template(solution)
    cells, missing = rebuild(template, solution)
    assert missing == []
    assert "reference-marker" in _by_id(cells, "add_one")["source"]


# -- hidden cases -------------------------------------------------------------------------


def test_hidden_cases_come_from_the_seed():
    a = hidden.draw("toy.add_one", 1, {}, {})
    b = hidden.draw("toy.add_one", 1, {}, {})
    c = hidden.draw("toy.add_one", 2, {}, {})
    assert a.n_cases == 4
    xs = [case["x"] for case in from_plain(a.plain)]
    assert all(np.array_equal(x, y["x"]) for x, y in zip(xs, from_plain(b.plain), strict=True))
    assert not np.array_equal(xs[0], from_plain(c.plain)[0]["x"])
    from nnlearn.exercises.registry import get_exercise

    public = get_exercise("toy.add_one").cases(PUBLIC_SEED)
    assert not any(p["x"].shape == x.shape and np.allclose(p["x"], x) for p in public[:3]
                   for x in xs[:3])
    assert (a.rtol, a.atol, a.title) == (1e-5, 1e-7, "add one to every entry of x")


def test_instructor_test_files_add_cases(tmp_path):
    extra, tolerances = hidden.load_test_files(FIXTURES / "hidden")
    tests = hidden.draw("toy.add_one", 3, extra, tolerances)
    assert tests.n_cases == 5 and from_plain(tests.plain)[-1]["x"].shape == (7, 2)
    (tmp_path / "new.py").write_text(textwrap.dedent("""
        HIDDEN_TESTS = {"toy.brand_new": lambda rng: [{"x": rng.random(2)}]}
        TOLERANCES = {"toy.brand_new": {"rtol": 0.5}}
    """))
    (tmp_path / "_private.py").write_text("raise RuntimeError('skipped')")
    extra, tolerances = hidden.load_test_files(tmp_path)
    tests = hidden.draw("toy.brand_new", 3, extra, tolerances)
    assert (tests.n_cases, tests.rtol, tests.atol) == (1, 0.5, hidden.DEFAULT_ATOL)


def test_hidden_cases_errors(tmp_path):
    with pytest.raises(ValueError, match="No hidden tests for exercise 'toy.nothing'"):
        hidden.draw("toy.nothing", 0, {}, {})
    (tmp_path / "bad.py").write_text("HIDDEN_TESTS = {'toy.add_one': 3}")
    with pytest.raises(TypeError, match="HIDDEN_TESTS"):
        hidden.load_test_files(tmp_path)
    with pytest.raises(ValueError, match="not plain data"):
        hidden.draw("toy.x", 0, {"toy.x": [lambda rng: [{"x": object()}]]}, {})


# -- reading the kernel's outputs -----------------------------------------------------------


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_read_results_round_trip(tmp_path):
    arrays = {f"0:{k}": v for k, v in to_plain((np.ones(2), 3.0)).items()}
    arrays["1:error"] = np.array("ZeroDivisionError")
    results = read_results(_npz(tmp_path / "out.npz", **arrays), 3)
    assert results[0][0] == "ok" and np.array_equal(results[0][1][0], np.ones(2))
    assert results[1] == ("error", "ZeroDivisionError")
    assert results[2] == ("error", "invalid output")  # missing case


def test_read_results_rejects_symlinks_pickles_and_bombs(tmp_path):
    secret = _npz(tmp_path / "secret.npz", **{"0:__structure__": np.array("{}")})
    os.symlink(secret, tmp_path / "link.npz")
    with pytest.raises(ValueError, match="no output file"):
        read_results(str(tmp_path / "link.npz"), 1)
    with pytest.raises(ValueError, match="no output file"):
        read_results(str(tmp_path / "absent.npz"), 1)
    np.savez(tmp_path / "pickle.npz", x=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        read_results(str(tmp_path / "pickle.npz"), 1)
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("0:a0.npy", b"\0" * (300 * 2**20))
    with pytest.raises(ValueError, match="too large"):
        read_results(str(tmp_path / "bomb.npz"), 1)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError):
        read_results(str(tmp_path / "junk.npz"), 1)


def test_exit_status_wording():
    assert [_exit_status(c) for c in (None, 1, -9, -11)] == [
        "", " (exit code 1)", " (killed by SIGKILL)", " (killed by SIGSEGV)"]


# -- scoring --------------------------------------------------------------------------------


@pytest.fixture
def toy_assignment(template):
    exercises = graded_exercises(template)
    tests = {e.grade_id: hidden.draw(e.exercise_id, 0, {}, {}) for e in exercises}
    reference = {g: [c["x"] + 1.0 if g == "check_add_one" else c["x"] ** 2
                     for c in from_plain(t.plain)] for g, t in tests.items()}
    return Assignment("00_toy", SOLUTION, template, [], exercises, tests, reference=reference)


def _record(assignment, **changes):
    record = RunRecord("x")
    record.received = {g: [("ok", v) for v in values] for g, values in assignment.reference.items()}
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def test_score_full_marks_and_all_or_nothing(toy_assignment):
    result = score(toy_assignment, _record(toy_assignment), [])
    assert (result.total, result.max_total, result.status) == (5, 5, "ok")
    record = _record(toy_assignment)
    record.received["check_add_one"][-1] = ("ok", np.zeros((1, 1)) + 1.5)
    record.received["check_square"][0] = ("error", "ValueError")
    result = score(toy_assignment, record, [])
    add_one, square = result.exercises
    assert (add_one.points, add_one.matched, add_one.n_cases) == (0, 3, 4)
    assert (square.points, square.case_errors) == (0, {"ValueError": 1})
    assert result.status == "ok"


def test_score_problems_reach_the_status(toy_assignment):
    record = _record(toy_assignment, blocked={"check_square": "timeout (1 s) in cell 7 (square)"},
                     problems=[("check_square", "timeout (1 s) in cell 7 (square)")])
    result = score(toy_assignment, record, ["add_one"])
    assert [e.points for e in result.exercises] == [0, 0]
    assert result.status == ("exercise cell missing or renamed: add_one; "
                             "timeout (1 s) in cell 7 (square)")


def test_score_reports_solution_cell_errors_only_when_they_cost_points(toy_assignment):
    record = _record(toy_assignment, cell_errors={"check_add_one": "ValueError: oops"})
    assert score(toy_assignment, record, []).status == "ok"
    record.received["check_add_one"] = [("error", "NameError")] * 4
    assert score(toy_assignment, record, []).status == "ValueError: oops (solution cell add_one)"


def test_score_outputs_cannot_lie_about_equality(toy_assignment):
    class Yes(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    record = _record(toy_assignment)
    record.received["check_add_one"] = [("ok", np.zeros_like(v).view(Yes))
                                        for _, v in record.received["check_add_one"]]
    assert score(toy_assignment, record, []).exercises[0].points == 0


# -- gradebook and feedback -------------------------------------------------------------------


def _result(name, assignment="00_toy", points=(2.0, 3.0), status="ok"):
    exercises = [ExerciseResult("check_add_one", "add_one", "add <one>", points[0], 2, 1, 1),
                 ExerciseResult("check_square", "square", "square", points[1], 3, 1, 1,
                                public="✓ square passed\n```\n")]
    return SubmissionResult(name, assignment, exercises, status, 1.0)


def test_gradebook_csv(tmp_path):
    path = tmp_path / "deep" / "grades.csv"
    results = [_result("a/x.ipynb"), _result("b/x.ipynb", points=(0, 1.5), status="a, b"),
               SubmissionResult("c.ipynb", None, [], "empty file")]
    report.write_gradebook(results, path)
    assert path.read_text().splitlines() == [
        "submission,assignment,check_add_one,check_square,total,max_total,status",
        "a/x.ipynb,00_toy,2,3,5,5,ok",
        'b/x.ipynb,00_toy,0,1.5,1.5,5,"a, b"',
        "c.ipynb,,,,0,,empty file",
    ]


def test_gradebook_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "grades.csv"
    path.write_text("old gradebook\n")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        report.write_gradebook([_result("x.ipynb")], path)
    assert path.read_text() == "old gradebook\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_gradebook_columns_union_in_order():
    other = SubmissionResult("y", "01_x", [ExerciseResult("check_f", "f", "f", 1, 1, 1, 1)], "ok")
    assert gradebook_columns([_result("x"), other]) == ["check_add_one", "check_square", "check_f"]


def test_feedback_files(tmp_path):
    results = [_result("a/x.ipynb"), _result("b/x.ipynb"), _result("c/y.ipynb")]
    report.write_feedback(results, tmp_path / "md")
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["a__x.md", "b__x.md", "y.md"]
    text = (tmp_path / "md" / "y.md").read_text()
    assert "## square: 3 / 3 points" in text and "~~~~text" in text
    report.write_feedback(results[:1], tmp_path / "html", "html")
    page = (tmp_path / "html" / "x.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "add &lt;one&gt;" in page


def test_progress_and_summary():
    results = [_result("x.ipynb"), _result("y.ipynb", points=(0, 0), status="empty file")]
    assert report.progress_line(2, 12, results[0]) == "[ 2/12] x.ipynb  5/5  ok  (1.0 s)"
    assert report.summary(results, 3.0, 7) == (
        "Graded 2 submission(s) in 3.0 s (seed 7): mean 2.50, min 0, max 5 (out of 5); "
        "1 not ok."
    )


# -- finding submissions and the command line -----------------------------------------------


def test_find_submissions(tmp_path):
    (tmp_path / "b.ipynb").write_text("{}")
    (tmp_path / "a.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    assert find_submissions([str(tmp_path)]) == [tmp_path / "a.ipynb", tmp_path / "b.ipynb"]
    with pytest.raises(FileNotFoundError, match="'SUBMISSION' argument"):
        find_submissions([str(tmp_path / "missing.ipynb")])


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--jobs", "0", "The '--jobs' parameter must be an int >= 1. Got '0' instead."),
     ("--timeout-cell", "x", "The '--timeout-cell' parameter must be a number >= 1"),
     ("--memory", "10", "The '--memory' parameter must be an int >= 256")],
)
def test_cli_rejects_bad_options(capsys, option, value, message):
    from nnlearn.cli import main

    with pytest.raises(SystemExit):
        main(["grade", "x.ipynb", option, value])
    assert message in capsys.readouterr().err


def test_cli_setup_errors_exit_2(tmp_path, capsys):
    from nnlearn.cli import main

    assert main(["grade", str(tmp_path / "nothing.ipynb")]) == 2
    assert main(["grade", str(tmp_path)]) == 2
    assert "no .ipynb files" in capsys.readouterr().err
    (tmp_path / "a.ipynb").write_bytes(EXERCISE.read_bytes())
    assert main(["grade", str(tmp_path), "--solutions", str(tmp_path / "none"),
                 "--out", str(tmp_path / "g.csv")]) == 2
    assert "'--solutions' directory must exist" in capsys.readouterr().err
    assert main(["grade", str(tmp_path), "--solutions", str(FIXTURES / "solutions"),
                 "--assignment", "00_tyo", "--out", str(tmp_path / "g.csv")]) == 2
    assert "The '--assignment' parameter must be one of ['00_toy']" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


# -- the file guard (installed in a plain interpreter, as in a kernel) ------------------------


def test_guard_refuses_denied_paths_and_processes(tmp_path):
    denied, allowed = tmp_path / "denied", tmp_path / "denied" / "work"
    allowed.mkdir(parents=True)
    (denied / "secret.txt").write_text("secret")
    (allowed / "mine.txt").write_text("mine")
    script = KERNEL_CODE + textwrap.dedent(f"""
        import os, subprocess, shutil
        install_guard([{str(denied)!r}], [{str(allowed)!r}])
        os.chdir({str(allowed)!r})
        def attempt(name, action):
            try:
                action()
            except PermissionError:
                print(name, "refused")
            else:
                print(name, "allowed")
        attempt("own file", lambda: open("mine.txt").read())
        attempt("write own dir", lambda: open("new.txt", "w").write("x"))
        attempt("secret", lambda: open("../secret.txt").read())
        attempt("os.open", lambda: os.open({str(denied / "secret.txt")!r}, os.O_RDONLY))
        attempt("listdir", lambda: os.listdir(".."))
        attempt("symlink", lambda: (os.symlink("../secret.txt", "s"), open("s").read()))
        attempt("hardlink", lambda: os.link("../secret.txt", "h"))
        attempt("copy", lambda: shutil.copy("../secret.txt", "c"))
        attempt("subprocess", lambda: subprocess.run(["cat", "../secret.txt"]))
        attempt("system", lambda: os.system("true"))
        attempt("fork", lambda: os.fork())
        attempt("parent memory", lambda: open(f"/proc/{{os.getppid()}}/environ").read())
        import socket
        attempt("unix socket", lambda: socket.socket(socket.AF_UNIX).connect("../sock"))
        attempt("own proc", lambda: open("/proc/self/status").read())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    verdicts = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines())
    assert verdicts == {
        "own file": "allowed", "write own dir": "allowed", "secret": "refused",
        "os.open": "refused", "listdir": "refused", "symlink": "refused",
        "hardlink": "refused", "copy": "refused", "subprocess": "refused", "system": "refused",
        "fork": "refused", "parent memory": "refused", "unix socket": "refused",
        "own proc": "allowed",
    }


def test_kernel_code_is_sent_as_text():
    """The kernel gets source text, so the grader's module never enters it."""
    assert "def install_guard" in KERNEL_CODE and "def run_cases" in KERNEL_CODE
    compile(KERNEL_CODE, "<kernel>", "exec")


def test_run_cases_fails_a_warning_only_where_the_exercise_forbids_it(tmp_path):
    """A stability exercise: the overflowing sigmoid's case is a warning, not an output,
    even after the notebook silenced NumPy (np.seterr); elsewhere warnings are harmless."""
    from nnlearn.grading.kernel_code import run_cases

    inputs, outputs = tmp_path / "in.npz", tmp_path / "out.npz"
    np.savez(inputs, **to_plain([{"x": np.array([-1e4, 0.0])}, {"x": np.array([1.0])}]))
    user_ns = {"sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x))}
    found = {}
    for forbid in (True, False):
        saved = np.seterr(all="ignore")
        try:
            run_cases("sigmoid", str(inputs), str(outputs), user_ns, forbid)
        finally:
            np.seterr(**saved)
        found[forbid] = [(kind, np.round(value, 3).tolist() if kind == "ok" else value)
                         for kind, value in read_results(str(outputs), 2)]
    assert found[True] == [("error", "RuntimeWarning"), ("ok", [0.731])]
    assert found[False] == [("ok", [0.0, 0.5]), ("ok", [0.731])]


# -- what cannot be trusted: odd files, exception names, report fields ----------------------


def test_read_submission_refuses_what_is_not_a_regular_notebook(tmp_path, monkeypatch):
    from nnlearn.grading import batch

    good = tmp_path / "good.ipynb"
    good.write_bytes(EXERCISE.read_bytes())
    assert batch.read_submission(good) == EXERCISE.read_bytes()
    (tmp_path / "dir.ipynb").mkdir()
    os.mkfifo(tmp_path / "fifo.ipynb")
    os.symlink(good, tmp_path / "link.ipynb")
    expected = {"dir": "a directory", "fifo": "a FIFO", "link": "a symbolic link (not followed)"}
    for name, kind in expected.items():
        with pytest.raises(NotebookProblem, match=re.escape(f"not a notebook file but {kind}")):
            batch.read_submission(tmp_path / f"{name}.ipynb")  # never blocks on the FIFO
    assert [p.name for p in find_submissions([str(tmp_path)])] == [
        "dir.ipynb", "fifo.ipynb", "good.ipynb", "link.ipynb"]
    monkeypatch.setattr(batch, "MAX_NOTEBOOK_BYTES", 100)
    with pytest.raises(NotebookProblem, match="notebook larger than"):
        batch.read_submission(good)


def test_read_results_neither_blocks_nor_reads_non_files(tmp_path):
    os.mkfifo(tmp_path / "fifo.npz")
    (tmp_path / "dir.npz").mkdir()
    for name in ("fifo.npz", "dir.npz"):
        with pytest.raises(ValueError, match="not a regular file"):
            read_results(str(tmp_path / name), 1)


def test_exception_names_are_built_in_or_anonymous(tmp_path):
    from nnlearn.grading.results import OWN_EXCEPTION, exception_name

    assert [exception_name(n) for n in ("ValueError", "Exception", "KeyboardInterrupt",
                                        "LinAlgError")] == [
        "ValueError", "Exception", "KeyboardInterrupt", "LinAlgError"]
    for name in ("[0.25, -1.5]", "MyError", "\x1b[2J", "=cmd", "print"):
        assert exception_name(name) == OWN_EXCEPTION
    arrays = {"0:error": np.array("[0.123456789, 2.5]")}
    assert read_results(_npz(tmp_path / "o.npz", **arrays), 1) == [("error", OWN_EXCEPTION)]


def test_gradebook_fields_are_clean_and_never_formulas(tmp_path):
    assert report.cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert [report.cell(t) for t in ("+1", "-1", "@x", "ok")] == ["'+1", "'-1", "'@x", "ok"]
    assert report.clean("a\x1b[2J\x07\r\x00b\u202e") == "a[2Jb"
    assert report.clean("line\r\nnext\ttab\x1b", multiline=True) == "line\nnext    tab"
    r = _result("=evil\x1b.ipynb", status="ValueError: \x07bad\r")
    r.review = "review: solution cell add_one (uses exec)"
    report.write_gradebook([r], tmp_path / "g.csv")
    text = (tmp_path / "g.csv").read_text()
    assert "'=evil.ipynb" in text and "ValueError: bad; review: solution cell" in text
    assert not [c for c in text if ord(c) < 32 and c != "\n"]
    assert "\x1b" not in report.progress_line(1, 1, r)
    feedback = report.feedback_markdown(r)
    assert "review" not in feedback and "\x07" not in feedback


def test_gradebook_keeps_resumed_rows_and_survives_a_directory(tmp_path):
    path = tmp_path / "g.csv"
    kept = [{"submission": "old.ipynb", "assignment": "00_toy", "check_add_one": "2",
             "check_old": "1", "total": "3", "max_total": "6", "status": "ok"}]
    assert report.write_gradebook([_result("new.ipynb")], path, kept) == path
    rows = report.read_gradebook(path)
    assert [r["submission"] for r in rows] == ["new.ipynb", "old.ipynb"]
    assert rows[1]["check_old"] == "1" and rows[0]["check_old"] == ""
    path.unlink()
    path.mkdir()  # e.g. made by something while grading ran
    written = report.write_gradebook([_result("new.ipynb")], path)
    assert written != path and written.parent == tmp_path and written.read_text()


def test_feedback_never_names_a_students_exception_class():
    from nnlearn.grading.results import OWN_EXCEPTION

    r = _result("x.ipynb")
    r.exercises[0].case_errors = {OWN_EXCEPTION: 2, "ZeroDivisionError": 1}
    text = report.feedback_markdown(r)
    assert f"2 case(s) raised {OWN_EXCEPTION}" in text
    assert "1 case(s) raised `ZeroDivisionError`" in text


# -- reference use: every roundabout route is flagged ----------------------------------------


@pytest.mark.parametrize("source", [
    "import nnlearn.activations as a\ndef f(x):\n    return a.sigmoid(x)",
    "import importlib\nm = importlib.import_module('nn' + 'learn')",
    "import sys\ndef f(x):\n    return sys.modules[k].f(x)",
    "def f(x):\n    return check.__globals__['g'](x)",
    "import builtins\nf = getattr(builtins, name)",
    "def f(x):\n    return getattr(obj, 'a' + 'b')(x)",
    "exec(code)",
    "import base64\nf = eval(base64.b64decode(b'eA=='))",
    "import pickle\nf = pickle.loads(b'')",
    "from ctypes import CDLL",
    "%time import nnlearn",
    "!cat secret",
    "f = [c for c in ().__class__.__base__.__subclasses__()]",
    "f = __builtins__['ev' + 'al']",
    "name = 'get_exercise'",
    "x = get_ipython()",
])
def test_library_uses_flags_every_route(source):
    from nnlearn.grading.notebook import library_uses

    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "solution": True, "grade": False, "locked": False, "grade_id": "f"}})
    assert library_uses([cell]) and library_uses([cell])[0].startswith("f (")


def test_library_uses_leaves_plain_numpy_alone():
    from nnlearn.grading.notebook import library_uses

    source = ("import numpy as np\nclass Layer:\n    def __init__(self, n):\n"
              "        super().__init__()\n        self.w = np.zeros(n)\n"
              "def f(x):\n    return np.maximum(x, 0) + getattr(np, 'pi')\n")
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "solution": True, "grade": False, "locked": False, "grade_id": "f"}})
    assert library_uses([cell]) == []


# -- the sandbox's command line ----------------------------------------------------------------


def test_kernel_command_builds_the_sandbox(tmp_path):
    from nnlearn.grading import isolation

    work, sockets = str(tmp_path / "work"), str(tmp_path / "k")
    secret = str(Path(isolation.readable_dirs()[0]) / "secret.ipynb")
    command = isolation.kernel_command(["python", "-m", "ipykernel_launcher"], [work, sockets],
                                       work, [secret], uid=None)
    text = " ".join(command)
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent",
                 "--new-session", "--cap-drop ALL", "--proc /proc", "--dev /dev",
                 f"--bind {work} {work}", f"--chdir {work}", "--unsetenv JPY_PARENT_PID"):
        assert flag in text, flag
    assert command[-3:] == ["python", "-m", "ipykernel_launcher"]
    for path in isolation.readable_dirs():
        assert f"--ro-bind {path} {path}" in text
    assert str(Path(isolation.__file__).resolve().parents[2] / "solutions") not in text
    with_uid = isolation.kernel_command(["python"], [work], work, [], uid=2**30 + 5)
    assert f"--reuid={2**30 + 5}" in " ".join(with_uid) and "--cap-add CAP_SETUID" in " ".join(
        with_uid)


def test_the_sandbox_masks_the_exercise_specs(tmp_path, monkeypatch):
    """The specs' reference functions are the answers: built-in and extra spec directories
    become empty read-only directories in the sandbox, and the kernel is not told of them."""
    from nnlearn.grading import isolation, sandbox

    extra = tmp_path / "my_specs"
    extra.mkdir()
    monkeypatch.setenv("NNLEARN_EXERCISE_SPECS", str(extra))
    builtin = str(Path(isolation.__file__).resolve().parents[1] / "exercises" / "specs")
    assert isolation.spec_dirs() == [builtin, str(extra.resolve())]
    work = str(tmp_path / "work")
    command = " ".join(isolation.kernel_command(["python"], [work], work, isolation.spec_dirs(),
                                                uid=None))
    assert f"--tmpfs {builtin} --remount-ro {builtin}" in command
    assert str(extra) not in command  # not bound at all: nothing to mask
    env = sandbox.kernel_environment(work)
    assert "NNLEARN_EXERCISE_SPECS" not in env
    assert env["NNLEARN_PUBLIC_TESTS"] == sandbox.public_dir(work)


def test_without_bubblewrap_grading_refuses_and_says_how_to_get_it(monkeypatch, tmp_path):
    from nnlearn.grading import batch, isolation
    from nnlearn.grading.scoring import GradingSetupError

    monkeypatch.setattr(isolation, "unavailable", lambda: "the grading sandbox needs bubblewrap")
    options = batch.Options(solutions=FIXTURES / "solutions")
    with pytest.raises(GradingSetupError, match="apt-get install bubblewrap.*--no-sandbox"):
        batch.grade([EXERCISE], options)


def test_sandbox_mounts_tmp_before_binding_the_course(monkeypatch):
    """A course checked out under /tmp (as in CI) must stay visible: the sandbox's /tmp tmpfs
    is mounted before the read-only binds, never over them."""
    from nnlearn.grading import isolation

    monkeypatch.setattr(isolation, "readable_dirs", lambda: ("/tmp/ci/main/.venv", "/tmp/ci/main/nnlearn"))
    command = isolation.kernel_command(["python", "-m", "ipykernel"], ["/tmp/nnlearn-grade-x/k"],
                                       "/tmp/nnlearn-grade-x/k", [], uid=None)
    tmpfs = command.index("/tmp", command.index("--tmpfs"))
    binds = [i for i, arg in enumerate(command) if arg == "--ro-bind" and command[i + 1].startswith("/tmp/")]
    assert binds and all(tmpfs < i for i in binds)
    assert ("--perms", "0755", "--dir", "/tmp") not in zip(command, command[1:], command[2:], command[3:], strict=False)
