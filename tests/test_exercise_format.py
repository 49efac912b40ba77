"""The exercise format: solutions/ -> exercises/, public checks, nbgrader compatibility.

Runs on every ``solutions/NN_topic.ipynb`` and on the fixture
``tests/fixtures/solutions/01_demo.ipynb`` (specs in ``tests/fixtures/exercise_specs``,
registered only inside these tests).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnlearn.exercises import generate, registry
from nnlearn.exercises.authoring import check_cell, code_cell, new_solution_notebook
from nnlearn.exercises.check import check
from nnlearn.exercises.compare import compare, from_plain, to_plain
from nnlearn.exercises.feedback import NotImplementedYet, StudentCodeError, WrongOutput
from nnlearn.exercises.notebook import (
    dumps_notebook,
    exercise_cells,
    notebook_problems,
    read_notebook,
    validate_notebook,
)
from nnlearn.exercises.public import PublicTests
from nnlearn.exercises.registry import Exercise, get_exercise, split_assignment
from nnlearn.headless import notebook_client

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEMO = FIXTURES / "solutions" / "01_demo.ipynb"
REAL = sorted(
    p for p in (REPO / "solutions").glob("*.ipynb") if re.fullmatch(r"\d+_\w+\.ipynb", p.name)
)
NOTEBOOKS = [pytest.param(DEMO, id="fixture-01_demo")] + [pytest.param(p, id=p.stem) for p in REAL]


@pytest.fixture(autouse=True)
def specs(monkeypatch):
    """The fixture specs are visible (also to kernels and nbgrader); the registry is restored."""
    monkeypatch.setenv(registry.SPECS_ENV, str(FIXTURES / "exercise_specs"))
    monkeypatch.setenv("NNLEARN_QUICK", "1")
    with registry.isolated():
        yield


def generated(path: Path) -> str:
    return dumps_notebook(generate.make_exercise_notebook(read_notebook(path), path.stem))


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    notebook_client(nb, cwd, cell_timeout=600, allow_errors=True).execute()
    return nb


def run_generator(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    generate.add_arguments(parser)
    return generate.run(parser.parse_args(list(argv)))


# -- generation ------------------------------------------------------------------------------


def test_exercises_in_sync_with_solutions(capsys):
    status = run_generator(
        "--solutions", str(REPO / "solutions"), "--out", str(REPO / "exercises"), "--check"
    )
    assert status == 0, f"run `nnlearn make-exercises`:\n{capsys.readouterr().err}"


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_generation_is_deterministic(path):
    text = generated(path)
    assert text == generated(path)
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
        assert not {"solution-only", "remove"} & set(cell.metadata.get("tags", []))
        assert "HIDDEN TESTS" not in cell.source and "SOLUTION" not in cell.source
    assert nb.metadata.nnlearn == {"assignment": path.stem}


def test_check_mode_lists_differences(tmp_path, capsys):
    solutions, out = str(FIXTURES / "solutions"), tmp_path / "exercises"
    assert run_generator("--solutions", solutions, "--out", str(out), "--check") == 1
    assert "01_demo.ipynb: missing" in capsys.readouterr().err
    assert run_generator("--solutions", solutions, "--out", str(out)) == 0
    assert run_generator("--solutions", solutions, "--out", str(out), "--check") == 0
    target = out / "01_demo.ipynb"
    written = target.read_bytes()
    target.write_text(target.read_text().replace("Exercise 1.1", "Exercise 9.9"))
    (out / "02_gone.ipynb").write_bytes(written)  # generated earlier, solution since deleted
    assert run_generator("--solutions", solutions, "--out", str(out), "--check") == 1
    err = capsys.readouterr().err
    assert "01_demo.ipynb: out of date" in err and "Exercise 9.9" in err
    assert "02_gone.ipynb: no solutions notebook generates it" in err
    assert run_generator("--solutions", solutions, "--out", str(out)) == 0
    assert target.read_bytes() == written and not (out / "02_gone.ipynb").exists()


def test_demo_fixture_matches_its_authoring_script():
    spec = importlib.util.spec_from_file_location("build_demo", FIXTURES / "build_demo_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert dumps_notebook(module.build()) == DEMO.read_text(encoding="utf-8")


# -- stubs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_stubs_raise_not_implemented_naming_the_exercise(path):
    solution = read_notebook(path)
    exercise_nb = nbformat.reads(generated(path), as_version=4)
    lesson = split_assignment(path.stem)[0]
    stubs = {e.function: exercise_nb.cells[e.solution_index].source
             for e in exercise_cells(exercise_nb)}  # fmt: skip
    for ex in exercise_cells(solution):
        stub = stubs[ex.function]
        title = get_exercise(ex.exercise_id).title
        message = f"Exercise {lesson}.{ex.number}: {ex.function}: {title}"
        function = next(
            n for n in ast.parse(stub).body
            if isinstance(n, ast.FunctionDef) and n.name == ex.function
        )  # fmt: skip
        raises = [
            n for n in ast.walk(function)
            if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
            and getattr(n.exc.func, "id", "") == "NotImplementedError"
        ]  # fmt: skip
        assert [ast.literal_eval(r.exc.args[0]) for r in raises] == [message]
        regions = re.findall(
            r"### BEGIN SOLUTION\n(.*?)\n[ \t]*### END SOLUTION",
            solution.cells[ex.solution_index].source, re.DOTALL,
        )  # fmt: skip
        assert regions
        hidden = {line.strip() for region in regions for line in region.split("\n")}
        hidden = {line for line in hidden if len(re.findall(r"\w", line)) >= 2}
        assert not hidden & {line.strip() for line in stub.split("\n")}, "solution leaked"


def test_a_stub_raises_when_called():
    nb = nbformat.reads(generated(DEMO), as_version=4)
    namespace: dict = {"np": np}
    exec(nb.cells[3].source, namespace)
    with pytest.raises(NotImplementedError, match=r"^Exercise 1\.1: affine: return x @ w \+ b$"):
        namespace["affine"](x=np.ones((1, 1)), w=np.ones((1, 1)), b=np.ones(1))


# -- executing the notebooks -----------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_untouched_exercise_notebook_checks_fail_briefly(path, tmp_path):
    nb = execute(nbformat.reads(generated(path), as_version=4), path.parent)
    lesson = split_assignment(path.stem)[0]
    for ex in exercise_cells(nb):
        errors = [o for o in nb.cells[ex.check_index].outputs if o.output_type == "error"]
        assert len(errors) == 1, nb.cells[ex.check_index].outputs
        lines = errors[0].traceback
        assert errors[0].ename == "NotImplementedYet"
        assert len(lines) <= 3 and not any('File "' in line for line in lines), lines
        assert re.search(rf"Exercise {lesson}\.\d+ \(\w+\) is not implemented yet", lines[0])
        if ex.number == 1:
            assert f"Exercise {lesson}.1 ({ex.function}) is not implemented yet" in lines[0]


# Notebooks whose untouched exercise version still shows a stub's traceback outside the
# check cells (wrap such a cell in try/except NotImplementedError, as 01-04 do).
@pytest.mark.parametrize("path", NOTEBOOKS)
def test_untouched_exercise_notebook_runs_outside_its_check_cells(path):
    nb = execute(nbformat.reads(generated(path), as_version=4), path.parent)
    checks = {ex.check_index for ex in exercise_cells(nb)}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and index not in checks:
            assert not [o for o in cell.outputs if o.output_type == "error"], (index, cell.source[:80])
            if "Skipped until you have written it" in cell.source:  # one line says what it waits for
                text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
                assert text.startswith("Skipped until you have written it: Exercise"), text


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_solution_notebook_passes_every_public_check(path):
    nb = execute(read_notebook(path), path.parent)
    for ex in exercise_cells(nb):
        outputs = nb.cells[ex.check_index].outputs
        assert not [o for o in outputs if o.output_type == "error"], outputs
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        assert re.search(rf"✓ {ex.function} passed \d+ public tests?", text), outputs
        assert not [o for o in outputs if o.output_type == "execute_result"]


# -- feedback --------------------------------------------------------------------------------


def _wrong_dw(dout, x, w):
    return dout @ w.T, (x.T @ dout) * 1.5, dout.sum(axis=0)


def _crashing_affine(x, w, b):
    out = x @ w
    return out + b.reshape(-1, 1)  # the student's mistake


def test_check_prints_a_short_success_line(capsys):
    assert check("demo.affine", lambda x, w, b: x @ w + b) is None
    assert capsys.readouterr().out == "✓ affine passed 3 public tests\n"


def test_wrong_output_shows_case_expected_received_and_hint():
    with pytest.raises(WrongOutput) as info:
        check("demo.affine_backward", _wrong_dw)
    lines = info.value._render_traceback_()
    text = "\n".join(lines)
    assert lines[0] == "✗ affine_backward returned a wrong result on public test 1 of 4."
    assert "dout = float64 array of shape (1, 1)" in text
    assert re.search(r"dw: values differ at 2 of 2 entries \(max abs difference [\d.]+\); "
                     r"first at \[0, 0\]: expected -?[\d.]+, received -?[\d.]+", text)  # fmt: skip
    assert "hint: db sums dout over the batch axis." in text
    assert 'File "' not in text and "x.T @ dout" not in text and len(lines) < 12


def test_student_exception_shows_type_message_and_own_line():
    with pytest.raises(StudentCodeError) as info:
        check("demo.affine", _crashing_affine)
    text = "\n".join(info.value._render_traceback_())
    assert "✗ affine raised ValueError on public test 2 of 3:" in text
    assert "ValueError: operands could not be broadcast" in text
    assert "in _crashing_affine, line" in text
    assert "return out + b.reshape(-1, 1)  # the student's mistake" in text
    assert 'File "' not in text


def test_not_implemented_messages():
    def stub(x, w, b):
        raise NotImplementedError("Exercise 1.1: affine: return x @ w + b")

    def generic(x, w, b):
        raise NotImplementedError()  # nbgrader's own stub

    def uses_stub(dout, x, w):
        return stub(x, w, 0), None, None

    expected = {
        ("demo.affine", stub): "✗ Exercise 1.1 (affine) is not implemented yet — replace",
        ("demo.affine", generic): "✗ Exercise demo.affine is not implemented yet — replace",
        ("demo.affine_backward", uses_stub):
            "✗ Exercise 1.1 (affine) is not implemented yet (affine_backward uses it) — replace",
    }  # fmt: skip
    for (exercise_id, function), start in expected.items():
        with pytest.raises(NotImplementedYet) as info:
            check(exercise_id, function)
        assert info.value._render_traceback_()[0].startswith(start)


def test_unknown_exercise_is_a_short_error():
    with pytest.raises(AssertionError, match="Did you mean 'demo.affine'"):
        check("demo.afine", _crashing_affine)


# -- every registered spec -------------------------------------------------------------------


def _perturbed(value):
    """The same output with its first leaf changed (None if there is nothing to change)."""
    plain = to_plain(value)
    leaves = [k for k in plain if k != "__structure__" and plain[k].size]
    if not leaves:
        return None
    leaf = plain[leaves[0]]
    plain[leaves[0]] = np.asarray(~leaf if leaf.dtype.kind == "b" else (
        np.char.add(leaf, "x") if leaf.dtype.kind == "U" else leaf + 1 + abs(leaf)
    ))  # fmt: skip
    return from_plain(plain)


def _all_exercises() -> list[Exercise]:
    """Every registered spec: the real ones and the fixture's."""
    old = os.environ.get(registry.SPECS_ENV)
    os.environ[registry.SPECS_ENV] = str(FIXTURES / "exercise_specs")
    try:
        with registry.isolated():
            return registry.discover()
    finally:
        os.environ.pop(registry.SPECS_ENV)
        if old is not None:
            os.environ[registry.SPECS_ENV] = old


@pytest.mark.parametrize("exercise", _all_exercises(), ids=lambda e: e.id)
def test_spec_is_sound(exercise: Exercise, capsys):
    public = exercise.cases()
    again = exercise.cases()
    hidden = exercise.cases(12345)
    # cases are plain data (arrays, numbers, ...), reproducible from the seed, and new per seed
    to_plain(public)
    assert compare(public, again, 0, 0) is None, "make_cases must only use rng"
    assert compare(public, hidden) is not None, "the hidden cases equal the public ones"
    outputs = PublicTests.from_exercise(exercise).expected
    for output in outputs:
        assert compare(output, from_plain(to_plain(output)), 0, 0) is None
    check(exercise.id, exercise.reference)
    assert capsys.readouterr().out.startswith(f"✓ {exercise.function} passed")
    if all(_perturbed(o) is not None for o in outputs[:1]):
        def wrong(**kwargs):
            return _perturbed(exercise.reference(**kwargs))

        with pytest.raises(WrongOutput, match="expected"):
            check(exercise.id, wrong)


# -- notebook metadata -----------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_metadata_is_valid_nbgrader_v3(path):
    solution = read_notebook(path)
    validate_notebook(solution, path.stem)
    exercise_nb = nbformat.reads(generated(path), as_version=4)
    nbgraderformat = pytest.importorskip("nbgrader.nbgraderformat")
    for nb in (solution, exercise_nb):
        nbgraderformat.MetadataValidator().validate_nb(nb)
    exercises = exercise_cells(solution)
    assert exercises and all(ex.check_index > ex.solution_index for ex in exercises)
    assert [ex.function for ex in exercises] == [
        e.function for e in registry.exercises_for(path.stem) if e.function in
        {ex.function for ex in exercises}
    ], "register the specs in notebook order"


def _break(nb, index, change):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    change(nb.cells[index])
    return nb


BROKEN = {
    "grade_id": (3, lambda c: c.metadata.nbgrader.update(grade_id="aff ine"), "grade_id must be"),
    "duplicate": (4, lambda c: c.metadata.nbgrader.update(grade_id="affine"), "also cell 3"),
    "points": (3, lambda c: c.metadata.nbgrader.update(points=1), "only allowed on grade"),
    "negative": (4, lambda c: c.metadata.nbgrader.update(points=-1), "points >= 0"),
    "schema": (4, lambda c: c.metadata.nbgrader.update(schema_version=2), "schema_version"),
    "key": (4, lambda c: c.metadata.nbgrader.update(hidden=True), "unknown nbgrader keys"),
    "markers": (3, lambda c: setattr(c, "source", c.source.replace("### END SOLUTION", "")),
                "matching"),
    "name": (3, lambda c: setattr(c, "source", c.source.replace("def affine(", "def f(")),
             "must define `def affine"),
    "check": (4, lambda c: setattr(c, "source", "check('demo.affine', affine)\\nprint(1)"),
              "must be just check"),
    "spec": (8, lambda c: setattr(c, "source", 'check("demo.affine_back", affine_backward)'),
             "must check demo.affine_backward"),
    "orphan": (4, lambda c: c.metadata.pop("nbgrader"), "needs a check cell"),
    "import": (1, lambda c: setattr(c, "source", "import numpy as np"), "before the first check"),
    "stray": (5, lambda c: setattr(c, "source", "### BEGIN SOLUTION\\n### END SOLUTION"),
              "outside a solution cell"),
}  # fmt: skip


@pytest.mark.parametrize("name", BROKEN)
def test_validation_reports_broken_notebooks(name):
    index, change, message = BROKEN[name]
    problems = notebook_problems(_break(read_notebook(DEMO), index, change), "01_demo")
    assert any(message in p for p in problems), problems


def test_validation_needs_a_registered_spec():
    nb = read_notebook(DEMO)
    nb.metadata.nnlearn.assignment = "01_toi"
    for index in (4, 8):
        nb.cells[index].source = nb.cells[index].source.replace('"demo.', '"toi.')
    problems = notebook_problems(nb)
    assert any("no spec registered as 'toi.affine'" in p for p in problems), problems


def test_authoring_helpers():
    from nnlearn.exercises.authoring import solution_cell

    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        solution_cell("def f():\n    return 1", "f")
    with pytest.raises(ValueError, match="'points'"):
        check_cell("demo.affine", points=-1)
    source = "def affine(x, w, b):\n    ### BEGIN SOLUTION\n    return x @ w + b\n    ### END SOLUTION"
    nb = new_solution_notebook(
        [code_cell("import numpy as np"), solution_cell(source, "affine"), check_cell("demo.affine")],
        "01_demo",
    )
    assert nb.cells[0].source == "from nnlearn.exercises import check"  # added
    assert [c.id for c in nb.cells] == ["cell-00", "cell-01", "affine", "check_affine"]
    with pytest.raises(ValueError, match="needs a check cell"):
        new_solution_notebook([code_cell("import numpy as np"), solution_cell(source, "affine")],
                              "01_demo")  # fmt: skip


# -- nbgrader itself -------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_nbgrader_generate_and_autograde(path, tmp_path):
    """nbgrader takes every solution notebook as it is: solution full marks, student versions 0."""
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in read_notebook(path).cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    course = tmp_path / "course"
    (course / "source" / "ps1").mkdir(parents=True)
    (course / "source" / "ps1" / path.name).write_bytes(path.read_bytes())
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")]))  # fmt: skip

    def nbgrader(*args):
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    nbgrader("generate_assignment", "ps1")
    released = course / "release" / "ps1" / path.name
    submissions = {
        "solution": path.read_text(encoding="utf-8"),
        "release": released.read_text(encoding="utf-8"),  # nbgrader's own student version
        "exercise": generated(path),  # ours
    }
    for student, text in submissions.items():
        (course / "submitted" / student / "ps1").mkdir(parents=True)
        (course / "submitted" / student / "ps1" / path.name).write_text(text, encoding="utf-8")
    nbgrader("autograde", "ps1", "--create")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s: gradebook.find_submission("ps1", s).score for s in submissions}
        max_score = gradebook.find_submission("ps1", "solution").max_score
    assert max_score == points > 0
    assert scores == {"solution": points, "release": 0, "exercise": 0}


# -- compare and plain data ------------------------------------------------------------------


def test_compare_matches_within_tolerance():
    x = np.array([[1.0, np.nan], [np.inf, -2.0]])
    assert compare(x, x + 1e-9) is None
    assert compare((x, 3, True, None, "a"), [x, np.int32(3), np.bool_(True), None, "a"]) is None
    assert compare({"w": x, "b": 1.5}, {"b": np.float32(1.5), "w": x.astype(np.float32)}) is None
    assert compare(np.float64(2.0), np.array(2.0)) is None
    assert compare(np.array(2.0), 2.0) is None


@pytest.mark.parametrize(
    "expected, received, message",
    [
        (np.zeros((2, 3)), np.zeros((3, 2)), "output: shape: expected (2, 3), received (3, 2)"),
        (np.zeros(2), [0.0, 0.0], "output: expected a NumPy array of shape (2,), received a list"),
        (np.zeros(2), np.zeros(2, int), "output: dtype: expected floating-point values, received int"),
        (np.zeros(2, int), np.zeros(2), "output: dtype: expected integer values, received float64"),
        (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 4.0]),
         "output: values differ at 2 of 3 entries (max abs difference 1); "
         "first at [1]: expected 2, received 2.5"),
        (np.array([True, False]), np.array([True, True]),
         "output: values differ at 1 of 2 entries; first at [1]: expected False, received True"),
        (np.array([np.nan]), np.array([0.0]), "output: values differ at 1 of 1 entries"),
        (1.0, np.array([1.0]), "output: expected a single floating-point number, received a NumPy"),
        (2.0, 2.5, "output: expected 2, received 2.5"),
        (True, 1, "output: dtype: expected bool values, received int64"),
        ((1.0, 2.0), (1.0,), "output: expected a tuple of 2 items, received a tuple of 1 item"),
        ((1.0, np.ones(2)), (1.0, np.zeros(2)), "output[1]: values differ"),
        ({"w": 1.0}, {"w": 1.0, "b": 2.0}, "output: extra keys ['b']"),
        ({"w": 1.0, "b": 2.0}, {"w": 1.0, "b": 3.0}, "output['b']: expected 2, received 3"),
        (None, 0.0, "output: expected None, received the float 0"),
        ("relu", "tanh", "output: expected 'relu', received 'tanh'"),
    ],
)  # fmt: skip
def test_compare_messages(expected, received, message):
    assert compare(expected, received).startswith(message)


def test_compare_names_tuple_items_and_cannot_be_fooled():
    assert compare((1.0, 2.0), (1.0, 3.0), names=("dx", "dw")).startswith("dw: expected 2")

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    assert compare(np.zeros(2), AlwaysEqual()) is not None
    assert compare(1.0, AlwaysEqual()) is not None
    assert compare(np.zeros(2), np.ones(2).view(Sneaky)) is not None


def test_plain_round_trip_through_npz(tmp_path):
    value = {
        "grads": (np.arange(6.0).reshape(2, 3), np.float32(0.5)),
        "mask": np.array([True, False]),
        "count": 3, "loss": 1.25, "ok": True, "name": "adam", "none": None, "list": [1, 2.0],
        "z": np.array(1 + 2j), "empty": np.zeros((0, 3)),
    }  # fmt: skip
    np.savez(tmp_path / "out.npz", **to_plain(value))
    with np.load(tmp_path / "out.npz", allow_pickle=False) as data:
        back = from_plain(data)
    assert compare(value, back, 0, 0) is None
    assert isinstance(back["grads"], tuple) and isinstance(back["list"], list)
    assert list(back) == list(value) and back["none"] is None
    # Python numbers come back as Python numbers (feedback shows "lr = 0.1", not np.float64)
    assert [type(back[k]) for k in ("count", "loss", "ok")] == [int, float, bool]
    assert type(back["grads"][1]) is np.float32 and type(back["list"][0]) is int


def test_to_plain_rejects_objects():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for bad in (AlwaysEqual(), np.array([1, None], dtype=object), {1: np.zeros(1)},
                (np.zeros(1), [AlwaysEqual()]), np.zeros(2, dtype=[("a", "f8")])):  # fmt: skip
        with pytest.raises(TypeError):
            to_plain(bad)
    plain = to_plain(np.ones(2).view(np.matrix))
    assert type(plain["a0"]) is np.ndarray


def test_from_plain_rejects_tampered_data():
    good = to_plain((np.ones(2), 1.0))
    structure = good["__structure__"]
    tampered = [
        {k: v for k, v in good.items() if k != "a0"},  # missing leaf
        {**good, "a9": np.zeros(1)},  # extra leaf
        {**good, "a0": np.array([object()], dtype=object)},  # object dtype
        {**good, "a0": np.ones(2).view(np.matrix)},  # subclass
        {**good, "a1": np.ones(2)},  # scalar with a shape
        {**good, "__structure__": np.array(str(structure).replace('"float"', '"int"'))},
        {**good, "__structure__": np.array(str(structure).replace('"float"', '["x"]'))},
        {**good, "__structure__": np.array("{not json")},
        {**good, "__structure__": np.array(json.dumps({"type": "pickle", "key": "a0"}))},
        {**good, "__structure__": np.array([str(structure)])},
        {"a0": np.ones(2)},  # no structure
    ]
    for arrays in tampered:
        with pytest.raises(ValueError):
            from_plain(arrays)


# -- registry --------------------------------------------------------------------------------


def test_exercise_spec_validation():
    ok = dict(id="demo.f", title="do f", make_cases=lambda rng: [{}], reference=lambda: 0)
    assert Exercise(**ok).function == "f"  # derived from the id, so the two cannot disagree
    for change, message in [
        ({"id": "Toy f"}, "'id' parameter"),
        ({"function": "g"}, "unexpected keyword argument 'function'"),
        ({"title": "two\nlines"}, "'title' parameter"),
        ({"rtol": -1.0}, "'rtol' parameter"),
        ({"reference": 3}, "'reference' parameter"),
    ]:
        with pytest.raises((ValueError, TypeError), match=message):
            Exercise(**{**ok, **change})


def test_registry_lookup_and_isolation():
    assert [e.id for e in registry.exercises_for("01_demo")] == ["demo.affine", "demo.affine_backward"]
    assert registry.exercises_for("demo") == registry.exercises_for("01_demo")
    with pytest.raises(KeyError, match="Did you mean 'demo.affine'"):
        get_exercise("demo.afine")
    with registry.isolated():
        registry.register(Exercise("demo.extra", "t", lambda rng: [{}], lambda: 0))
        assert get_exercise("demo.extra").function == "extra"
    with pytest.raises(KeyError):
        get_exercise("demo.extra")
    assert split_assignment("03_backprop") == (3, "backprop")
    with pytest.raises(ValueError, match="'03_backprop'"):
        split_assignment("backprop")


def test_cli_make_exercises_check():
    cli = pytest.importorskip("nnlearn.cli")
    pytest.importorskip("nnlearn.grading.cli")  # the CLI loads every subcommand
    assert cli.main(["make-exercises", "--check"]) == 0



def test_fixture_specs_are_loaded_on_demand_and_forgotten():
    assert "demo.affine" not in registry._EXERCISES  # what earlier tests loaded is gone
    with registry.isolated():
        assert get_exercise("demo.affine").function == "affine"
    assert "demo.affine" not in registry._EXERCISES
