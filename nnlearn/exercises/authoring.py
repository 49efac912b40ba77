"""Build solution notebooks from a script (see the guide in ``nnlearn.exercises``).

    from nnlearn.exercises.authoring import (
        markdown_cell, code_cell, solution_cell, check_cell, new_solution_notebook,
    )
    from nnlearn.exercises.notebook import write_notebook

    nb = new_solution_notebook([markdown_cell("# ..."), ...], "03_backprop")
    write_notebook(nb, "solutions/03_backprop.ipynb")

Cell ids are deterministic (``grade_id`` for graded cells, ``cell-NN`` otherwise),
so rebuilding a notebook from the same script gives the same bytes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

import nbformat
from nbformat.notebooknode import NotebookNode

from nnlearn.exercises.notebook import (
    _IMPORT_RE,
    BEGIN_HIDDEN_TESTS,
    BEGIN_SOLUTION,
    CHECK_IMPORT,
    END_HIDDEN_TESTS,
    END_SOLUTION,
    KERNELSPEC,
    check_metadata,
    is_check_cell,
    nbgrader_meta,
    solution_metadata,
    validate_notebook,
)

_FUNCTION_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _clean(source: str) -> str:
    """Dedent and drop the blank lines around (so triple-quoted sources can be indented)."""
    return textwrap.dedent(source).strip("\n").rstrip()


def markdown_cell(text: str) -> NotebookNode:
    """A markdown cell (the text is dedented)."""
    return nbformat.v4.new_markdown_cell(_clean(text))


def code_cell(source: str, tags: Iterable[str] = ()) -> NotebookNode:
    """A plain code cell. ``tags=["solution-only"]`` keeps it out of the exercise notebook."""
    cell = nbformat.v4.new_code_cell(_clean(source))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def solution_cell(source: str, function: str) -> NotebookNode:
    """The cell defining ``function``; its body between the solution markers.

    ``source`` must contain ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines
    inside ``def function(...)``; in the exercise notebook that region becomes
    ``raise NotImplementedError("Exercise N.M: function: <title>")``.
    """
    if not isinstance(function, str) or not _FUNCTION_RE.fullmatch(function):
        raise ValueError(
            f"The 'function' parameter of solution_cell must be a Python name. Got {function!r}."
        )
    source = _clean(source)
    if BEGIN_SOLUTION not in source or END_SOLUTION not in source:
        raise ValueError(
            f"The 'source' of solution_cell({function!r}) must contain {BEGIN_SOLUTION!r} and "
            f"{END_SOLUTION!r} lines around the solution. Got no markers."
        )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = solution_metadata(function)
    return cell


def check_cell(
    exercise_id: str, function: str | None = None, points: float = 1, hidden: str = ""
) -> NotebookNode:
    """The autograder-test cell ``check("<exercise_id>", <function>)``.

    ``function`` defaults to the part of ``exercise_id`` after the dot. ``hidden``
    is optional extra test code for nbgrader users, wrapped in nbgrader's
    ``### BEGIN HIDDEN TESTS`` block (removed from the exercise notebook).
    """
    function = function or exercise_id.rpartition(".")[2]
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise ValueError(f"The 'points' parameter of check_cell must be >= 0. Got {points!r}.")
    source = f'check("{exercise_id}", {function})'
    if hidden:
        source += f"\n{BEGIN_HIDDEN_TESTS}\n{_clean(hidden)}\n{END_HIDDEN_TESTS}"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = check_metadata(function, points)
    return cell


def new_solution_notebook(
    cells: Iterable[NotebookNode], assignment: str, validate: bool = True
) -> NotebookNode:
    """A solution notebook for ``assignment`` (the file stem, e.g. ``"03_backprop"``).

    Adds ``from nnlearn.exercises import check`` in a cell before the first code
    cell if no cell imports ``check``, sets the metadata (python3 kernelspec,
    ``nnlearn.assignment``) and deterministic cell ids, and (by default)
    validates the result with :func:`~nnlearn.exercises.notebook.validate_notebook`
    (so the specs must be registered first).
    """
    cells = [nbformat.from_dict(dict(cell)) for cell in cells]
    if any(is_check_cell(c) for c in cells) and not any(
        c.cell_type == "code" and _IMPORT_RE.search(c.source) for c in cells
    ):
        first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
        cells.insert(first_code, nbformat.v4.new_code_cell(CHECK_IMPORT))
    for index, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        cell["id"] = meta.get("grade_id") or f"cell-{index:02d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
            "nnlearn": {"assignment": assignment},
        }
    )
    if validate:
        validate_notebook(nb, assignment)
    return nb
