"""The notebook format of exercises: markers, nbgrader metadata, validation, stable I/O.

A solution notebook ``solutions/NN_topic.ipynb`` has, per exercise, a pair of cells:

* a **solution cell** (code) defining the function, its body between
  ``### BEGIN SOLUTION`` / ``### END SOLUTION``; nbgrader metadata
  ``{grade: false, grade_id: <function>, locked: false, schema_version: 3,
  solution: true, task: false}``;
* a **check cell** (code) ``check("<topic>.<function>", <function>)``; nbgrader
  metadata of an autograder-test cell ``{grade: true, grade_id: "check_<function>",
  locked: true, points: <points>, schema_version: 3, solution: false, task: false}``.

and notebook metadata ``nnlearn: {"assignment": "NN_topic"}``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN_TESTS = "### BEGIN HIDDEN TESTS"
END_HIDDEN_TESTS = "### END HIDDEN TESTS"
REMOVE_TAGS = frozenset({"solution-only", "remove"})
"""Cells with one of these tags are left out of the exercise notebook."""

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CHECK_IMPORT = "from nnlearn.exercises import check"

NBGRADER_SCHEMA_VERSION = 3
_NBGRADER_KEYS = {
    "schema_version", "grade", "locked", "solution", "task", "grade_id", "points",
    "checksum", "cell_type",
}  # fmt: skip
_GRADE_ID_RE = re.compile(r"[a-zA-Z0-9_\-]+")
_CHECK_RE = re.compile(r"check\(\s*[\"']([\w.]+)[\"']\s*,\s*([A-Za-z_]\w*)\s*\)")
_IMPORT_RE = re.compile(r"^\s*from\s+nnlearn\.exercises\s+import\s+.*\bcheck\b", re.MULTILINE)


class NotebookFormatError(ValueError):
    """A solution notebook breaks the exercise format; the message lists every problem."""


def solution_metadata(function: str) -> dict:
    """nbgrader metadata of a solution cell (graded through its check cell)."""
    return {
        "grade": False, "grade_id": function, "locked": False,
        "schema_version": NBGRADER_SCHEMA_VERSION, "solution": True, "task": False,
    }  # fmt: skip


def check_metadata(function: str, points: float) -> dict:
    """nbgrader metadata of an autograder-test (check) cell."""
    return {
        "grade": True, "grade_id": f"check_{function}", "locked": True, "points": points,
        "schema_version": NBGRADER_SCHEMA_VERSION, "solution": False, "task": False,
    }  # fmt: skip


# -- reading and writing ---------------------------------------------------------------------


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def dumps_notebook(nb: nbformat.NotebookNode) -> str:
    """Serialise deterministically: sorted keys, one-space indent, trailing newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: nbformat.NotebookNode, path: str | Path) -> None:
    """Write ``nb`` to ``path`` with :func:`dumps_notebook` (creates parent directories)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_notebook(nb), encoding="utf-8", newline="\n")


# -- finding the exercises -------------------------------------------------------------------


def nbgrader_meta(cell) -> dict:
    """The cell's ``metadata["nbgrader"]`` dict, or ``{}`` if absent or malformed.

    Defensive because the grader also reads students' notebooks, whose metadata
    may have been edited into anything.
    """
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_solution_cell(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_check_cell(cell) -> bool:
    return bool(nbgrader_meta(cell).get("grade"))


def strip_hidden_tests(source: str) -> str:
    """Remove ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions (as nbgrader)."""
    lines, hidden = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class ExerciseCells:
    """Where one exercise lives in a notebook."""

    number: int  # 1, 2, ... in notebook order
    function: str  # the solution cell's grade_id
    exercise_id: str  # "<topic>.<function>" as written in the check cell
    points: float  # the check cell's points
    solution_index: int  # index of the solution cell in nb.cells
    check_index: int  # index of the check cell in nb.cells


def exercise_cells(nb: nbformat.NotebookNode) -> list[ExerciseCells]:
    """The exercises of a notebook in order: each solution cell with its check cell.

    A solution cell without a later check cell gets ``check_index = -1``.
    """
    checks = {}
    for index, cell in enumerate(nb.cells):
        if is_check_cell(cell):
            match = _CHECK_RE.fullmatch(strip_hidden_tests(cell.source).strip())
            if match and match.group(2) not in checks:
                checks[match.group(2)] = (index, match.group(1), nbgrader_meta(cell).get("points"))
    found = []
    for index, cell in enumerate(nb.cells):
        if is_solution_cell(cell):
            function = nbgrader_meta(cell).get("grade_id", "")
            check_index, exercise_id, points = checks.get(function, (-1, "", 0))
            number = len(found) + 1
            found.append(ExerciseCells(number, function, exercise_id, points, index, check_index))
    return found


# -- validation ------------------------------------------------------------------------------


def _nbgrader_problems(cell, where: str) -> list[str]:
    """Our own check of nbgrader's cell-metadata schema v3 (no nbgrader import needed)."""
    meta = nbgrader_meta(cell)
    problems = []
    extra = set(meta) - _NBGRADER_KEYS
    missing = {"schema_version", "grade", "locked", "solution"} - set(meta)
    if extra:
        problems.append(f"{where}: unknown nbgrader keys {sorted(extra)}")
    if missing:
        problems.append(f"{where}: missing nbgrader keys {sorted(missing)}")
    if meta.get("schema_version") != NBGRADER_SCHEMA_VERSION:
        problems.append(f"{where}: nbgrader schema_version must be 3")
    for key in ("grade", "locked", "solution", "task"):
        if key in meta and not isinstance(meta[key], bool):
            problems.append(f"{where}: nbgrader {key!r} must be true or false")
    grade_id = meta.get("grade_id")
    if meta.get("grade") or meta.get("solution") or meta.get("locked"):
        if not isinstance(grade_id, str) or not _GRADE_ID_RE.fullmatch(grade_id):
            problems.append(
                f"{where}: grade_id must be letters, digits, '_' or '-'. Got {grade_id!r}."
            )
    points = meta.get("points")
    if meta.get("grade"):
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            problems.append(f"{where}: a grade cell needs points >= 0. Got {points!r}.")
    elif "points" in meta:
        problems.append(f"{where}: points are only allowed on grade (check) cells")
    if "checksum" in meta or "cell_type" in meta:
        problems.append(f"{where}: 'checksum'/'cell_type' belong in student versions only")
    if meta.get("task"):
        problems.append(f"{where}: task cells are not used by the exercise format")
    return problems


def _solution_problems(cell, function: str, where: str) -> list[str]:
    problems = []
    if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
        return [f"{where}: a solution cell must be a code cell with grade: false"]
    lines = cell.source.split("\n")
    begins = [i + 1 for i, line in enumerate(lines) if "BEGIN SOLUTION" in line]
    ends = [i + 1 for i, line in enumerate(lines) if "END SOLUTION" in line]
    pairs_ok = len(begins) == len(ends) and all(
        b < e and (n + 1 >= len(begins) or e < begins[n + 1])
        for n, (b, e) in enumerate(zip(begins, ends, strict=True))
    )
    if not begins or not pairs_ok:
        problems.append(f"{where}: needs matching {BEGIN_SOLUTION!r} / {END_SOLUTION!r} lines")
    for number in begins + ends:
        if lines[number - 1].strip() not in (BEGIN_SOLUTION, END_SOLUTION):
            problems.append(f"{where}: line {number}: write the marker alone on its line")
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as error:
        return problems + [f"{where}: syntax error: {error}"]
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    if not defs:
        problems.append(f"{where}: must define `def {function}(...)` (its grade_id)")
    elif not all(defs[0].lineno < line <= defs[0].end_lineno for line in begins) or not all(
        lines[n - 1][:1].isspace() for n in begins + ends
    ):
        problems.append(f"{where}: the solution markers must be inside `def {function}`")
    return problems


def notebook_problems(nb: nbformat.NotebookNode, assignment: str | None = None) -> list[str]:
    """Everything wrong with a solution notebook (empty list: valid)."""
    from nnlearn.exercises.registry import get_exercise, split_assignment

    problems = []
    declared = nb.get("metadata", {}).get("nnlearn", {}).get("assignment")
    if not isinstance(declared, str):
        return ['notebook metadata needs nnlearn: {"assignment": "NN_topic"}']
    if assignment is not None and declared != assignment:
        problems.append(f"metadata says assignment {declared!r} but the file is {assignment!r}")
    try:
        topic = split_assignment(declared)[1]
    except ValueError as error:
        return problems + [str(error)]
    ids: dict[str, int] = {}
    first_check = None
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        source = cell.get("source", "")
        if "nbgrader" in cell.get("metadata", {}):
            problems += _nbgrader_problems(cell, where)
            meta = nbgrader_meta(cell)
            if meta.get("grade") or meta.get("solution") or meta.get("locked"):
                grade_id = meta.get("grade_id")
                if grade_id in ids:
                    problems.append(f"{where}: grade_id {grade_id!r} is also cell {ids[grade_id]}'s")
                ids.setdefault(grade_id, index)
        if ("BEGIN SOLUTION" in source or "END SOLUTION" in source) and not is_solution_cell(cell):
            problems.append(f"{where}: solution markers outside a solution cell")
        if "HIDDEN TESTS" in source and not is_check_cell(cell):
            problems.append(f"{where}: hidden tests outside a grade (check) cell")
        if is_check_cell(cell):
            first_check = index if first_check is None else first_check
            if cell.cell_type != "code" or is_solution_cell(cell):
                problems.append(f"{where}: a check cell must be a code cell with solution: false")
            elif not _CHECK_RE.fullmatch(strip_hidden_tests(source).strip()):
                problems.append(f'{where}: a check cell must be just check("<id>", <function>)')
    if first_check is not None and not any(
        c.cell_type == "code" and _IMPORT_RE.search(c.source) for c in nb.cells[:first_check]
    ):
        problems.append(f"no `{CHECK_IMPORT}` before the first check cell")
    exercises = exercise_cells(nb)
    checked = {e.function for e in exercises}
    for index, cell in enumerate(nb.cells):
        match = _CHECK_RE.fullmatch(strip_hidden_tests(cell.source).strip())
        if is_check_cell(cell) and match and match.group(2) not in checked:
            problems.append(f"cell {index}: checks {match.group(2)} but no solution cell has it")
    for ex in exercises:
        where = f"cell {ex.solution_index} ({ex.function})"
        problems += _solution_problems(nb.cells[ex.solution_index], ex.function, where)
        if ex.check_index < ex.solution_index:
            problems.append(f"{where}: needs a check cell after it, grade_id 'check_{ex.function}'")
            continue
        check_id = nbgrader_meta(nb.cells[ex.check_index]).get("grade_id")
        if check_id != f"check_{ex.function}":
            problems.append(f"cell {ex.check_index}: grade_id must be 'check_{ex.function}'")
        if ex.exercise_id != f"{topic}.{ex.function}":
            problems.append(
                f"cell {ex.check_index}: must check {topic}.{ex.function!s}, not {ex.exercise_id}"
            )
            continue
        try:
            spec = get_exercise(ex.exercise_id)
        except KeyError:
            problems.append(
                f"{where}: no spec registered as {ex.exercise_id!r} "
                f"(write nnlearn/exercises/specs/{topic}.py)"
            )
            continue
        if spec.function != ex.function:
            problems.append(f"{where}: spec {spec.id} is for function {spec.function!r}")
    return problems


def validate_notebook(nb: nbformat.NotebookNode, assignment: str | None = None) -> None:
    """Raise :class:`NotebookFormatError` listing every problem of a solution notebook."""
    problems = notebook_problems(nb, assignment)
    if problems:
        raise NotebookFormatError(
            f"{len(problems)} problem(s) in the exercise notebook:\n  " + "\n  ".join(problems)
        )
