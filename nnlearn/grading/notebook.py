"""Read submissions safely and rebuild them from the instructor's copy.

A submission is trusted for exactly one thing: the source of its solution cells.
Everything else (every locked / non-solution cell: source, type, metadata and
tags) comes from the instructor's copy (:func:`student_template`: the solution
notebook as students received it), so a student who edits,
deletes, re-types or re-tags (``skip-execution``, ``raises-exception``) a test
cell changes nothing. Cells are matched by nbgrader ``grade_id``; a solution
cell whose ``grade_id`` is missing from the submission (deleted or renamed) is
replaced by an empty cell and reported.

Notebook format (nbgrader schema 3 metadata, written by ``nnlearn make-exercises``):

* solution cell: ``{"solution": true, "grade": false, "locked": false, "grade_id": f}``
  where ``f`` is the function the student writes;
* check cell: ``{"grade": true, "solution": false, "locked": true, "points": p,
  "grade_id": "check_" + f}`` whose source calls ``check("<topic>.<f>", f)``;
* notebook metadata ``{"nnlearn": {"assignment": "03_backprop"}}``.
"""

from __future__ import annotations

import ast
import copy
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

from nnlearn.exercises.notebook import (
    REMOVE_TAGS,
    exercise_cells,
    is_check_cell,
    is_solution_cell,
    nbgrader_meta,
    strip_hidden_tests,
)

Cell = dict  # an nbformat v4 cell (a plain dict; NotebookNode also works)


class NotebookProblem(Exception):
    """A submission that cannot be graded at all; the message is its status."""


@dataclass(frozen=True)
class GradedExercise:
    """One graded exercise as laid out in the instructor's notebook.

    Attributes
    ----------
    grade_id : str
        The check cell's ``grade_id`` (``"check_" + function``): the gradebook column.
    function : str
        Name of the student's function (the solution cell's ``grade_id``).
    exercise_id : str
        Registry id, first argument of ``check()`` (e.g. ``"backprop.dense_backward"``).
    points : float
        The check cell's points.
    solution_cell, check_cell : int
        0-based cell indices in the instructor's notebook.
    """

    grade_id: str
    function: str
    exercise_id: str
    points: float
    solution_cell: int
    check_cell: int


def source_of(cell: Cell) -> str:
    """The cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def load_submission(data: bytes) -> nbformat.NotebookNode:
    """Parse a submission's bytes; raise :class:`NotebookProblem` naming what is wrong."""
    if not data.strip():
        raise NotebookProblem("empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotebookProblem(f"not UTF-8 text (byte {error.start})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookProblem(f"invalid JSON (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise NotebookProblem("invalid JSON (nested too deeply)") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookProblem("not a notebook (no list of cells)")
    try:
        return nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as error:  # noqa: BLE001 - any parser failure is this file's status
        raise NotebookProblem(f"not a readable notebook ({type(error).__name__})") from None


def assignment_of(nb: dict) -> str | None:
    """The assignment named in the notebook metadata (``nnlearn.assignment``), if any."""
    metadata = nb.get("metadata")
    meta = metadata.get("nnlearn") if isinstance(metadata, dict) else None
    name = meta.get("assignment") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else None


def student_template(solution: dict) -> nbformat.NotebookNode:
    """The instructor's copy of what students received, from the solution notebook.

    As ``nnlearn make-exercises`` does: cells tagged ``solution-only`` / ``remove``
    are dropped and nbgrader ``### BEGIN HIDDEN TESTS`` blocks are stripped from
    check cells, so neither ever runs in (or leaks through) a student's kernel.
    Solution cells keep the reference code here; :func:`rebuild` replaces it.
    """
    nb = copy.deepcopy(nbformat.from_dict(dict(solution)))
    cells = []
    for cell in nb.cells:
        if REMOVE_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if is_check_cell(cell):
            cell.source = strip_hidden_tests(cell.source).rstrip("\n")
        cells.append(cell)
    nb.cells = cells
    return nb


def graded_exercises(template: nbformat.NotebookNode) -> list[GradedExercise]:
    """The graded exercises of ``template`` in notebook order.

    Raises
    ------
    ValueError
        If a solution cell has no check cell after it or a check cell has no
        valid points: the instructor's notebook must be fixed first.
    """
    found = []
    for e in exercise_cells(template):
        check = template.cells[e.check_index] if e.check_index >= 0 else {}
        grade_id, points = nbgrader_meta(check).get("grade_id"), e.points
        if e.check_index < 0 or not isinstance(grade_id, str) or not e.exercise_id:
            raise ValueError(
                f"Solution cell {e.function!r} needs a check cell after it with a grade_id and "
                f"source check('<topic>.{e.function}', {e.function})."
            )
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise ValueError(f"Check cell {grade_id!r} must have points >= 0. Got {points!r}.")
        found.append(GradedExercise(grade_id, e.function, e.exercise_id, float(points),
                                    e.solution_index, e.check_index))
    return found


def rebuild(template: dict, submission: dict) -> tuple[list[Cell], list[str]]:
    """The cells to execute: the instructor's, with the student's solution sources.

    Returns
    -------
    cells : list of dict
        Code/markdown cells as in ``template`` (outputs cleared); each solution
        cell's source is replaced by the source of the submission's cell with the
        same ``grade_id`` (the first one if duplicated), whatever its type or tags.
    missing : list of str
        ``grade_id`` of solution cells not found in the submission; their source
        becomes a comment, so the function stays undefined.
    """
    by_id: dict[str, str] = {}
    for cell in submission.get("cells", []):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if isinstance(grade_id, str) and grade_id not in by_id:
            by_id[grade_id] = source_of(cell)
    cells, missing = [], []
    for cell in template["cells"]:
        new = copy.deepcopy(dict(cell))
        if new.get("cell_type") == "code":
            new["outputs"], new["execution_count"] = [], None
        if is_solution_cell(cell):
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id in by_id:
                new["source"] = by_id[grade_id]
            else:
                missing.append(str(grade_id))
                new["source"] = f"# exercise cell {grade_id!r} is missing from the submission\n"
        cells.append(new)
    return cells, missing


# Names through which a solution could hand back the library's or the registry's answer.
_LIBRARY_NAMES = {"nnlearn", "get_exercise", "exercises_for", "reference"}
# Ways to reach code without naming it: run strings as code, look up modules or globals,
# unpickle. Course exercises need none of them, so any use is worth a look.
_DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars",
                  "breakpoint", "get_ipython", "attrgetter", "methodcaller"}
_DYNAMIC_MODULES = {"importlib", "imp", "pkgutil", "runpy", "zipimport", "pickle", "marshal",
                    "shelve", "copyreg", "dill", "cloudpickle", "joblib", "base64", "binascii",
                    "codecs", "zlib", "lzma", "bz2", "gzip", "ctypes", "cffi", "gc", "inspect",
                    "types", "builtins", "sys", "operator", "subprocess", "os", "IPython"}
_HARMLESS_DUNDERS = {"__init__", "__name__", "__doc__"}
_TELLING_STRINGS = ("nnlearn", "__", "get_exercise", "exercises_for")


def _source_for_ast(source: str) -> str:
    """Cell source as Python: IPython syntax (``%magic``, ``!cmd``) becomes the
    ``get_ipython()`` calls IPython would run, so it cannot hide code from the review."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - ipykernel brings IPython
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - leave it to ast.parse to fail
        return source


def _uses(tree: ast.AST) -> set[str]:
    uses = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                if top == "nnlearn":
                    uses.add(f"imports {a.name}")
                elif top in _DYNAMIC_MODULES:
                    uses.add(f"imports {a.name}")
        elif isinstance(node, ast.ImportFrom):
            top = (node.module or "").split(".")[0]
            if top == "nnlearn" or top in _DYNAMIC_MODULES:
                uses.add(f"imports {node.module}")
        elif isinstance(node, ast.Name) and node.id in _LIBRARY_NAMES - {"reference"}:
            uses.add(f"uses {node.id}")
        elif isinstance(node, ast.Name) and (node.id in _DYNAMIC_CALLS or node.id in (
                "__builtins__", "__loader__", "__spec__")):
            uses.add(f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in _LIBRARY_NAMES:
            uses.add(f"uses .{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in ("modules", "import_module"):
            uses.add(f"uses .{node.attr}")
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("__")
              and node.attr.endswith("__") and node.attr not in _HARMLESS_DUNDERS):
            uses.add(f"uses .{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "delattr", "hasattr")
              and not (len(node.args) >= 2 and isinstance(node.args[1], ast.Constant))):
            uses.add(f"uses {node.func.id} with a computed name")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                word in node.value for word in _TELLING_STRINGS):
            uses.add("names nnlearn, the registry or a dunder in a string")
    return uses


def library_uses(cells: list[Cell]) -> list[str]:
    """Solution cells whose code may reach the library's or the registry's answer.

    The exercises ask students to write what ``nnlearn`` already implements. The
    sandbox leaves the exercise specs (the registry's reference functions) out of the
    kernel, but not the library the lessons import, so a solution *could* call the
    library's own implementation; this flags it, and any attempt at the registry, for
    the instructor (the grade itself is unchanged). Flagged: importing
    ``nnlearn``; the registry's names; and every way of reaching code without naming
    it in plain sight (``exec``/``eval``/``compile``, ``__import__``, ``importlib``,
    ``sys.modules``, dunder attributes such as ``__globals__``, ``getattr`` with a
    computed name, ``builtins``, ``pickle``/``marshal``, ``base64``/``codecs``,
    ``ctypes``, ``gc``, ``inspect``, ``get_ipython`` and IPython magics, strings
    naming ``nnlearn``, the registry or a dunder). Only the student's solution cells are read;
    names the instructor's own cells import stay fair game.

    Returns
    -------
    list of str, e.g. ``["sigmoid (imports nnlearn.activations)"]``
    """
    flagged = []
    for cell in cells:
        if not is_solution_cell(cell):
            continue
        source = source_of(cell)
        try:
            tree = ast.parse(_source_for_ast(source))
        except (SyntaxError, ValueError):
            continue  # a syntax error is reported (and costs points) elsewhere
        uses = _uses(tree)
        if uses:
            flagged.append(f"{nbgrader_meta(cell).get('grade_id')} ({', '.join(sorted(uses))})")
    return flagged


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read an instructor's notebook (errors propagate: the instructor must fix them)."""
    return nbformat.read(str(path), as_version=4)
