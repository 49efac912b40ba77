"""``nnlearn make-exercises``: generate ``exercises/`` from ``solutions/``.

For each ``solutions/NN_topic.ipynb`` (validated first), the exercise notebook:

* replaces every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region with
  ``raise NotImplementedError("Exercise N.M: <function>: <title>")`` (N from the
  file name, M the exercise's position in the notebook, title from the spec);
* removes nbgrader's ``### BEGIN HIDDEN TESTS`` blocks and every cell tagged
  ``solution-only`` or ``remove``;
* has no outputs, no execution counts, only stable metadata (kernelspec,
  ``nnlearn.assignment``, nbgrader cell metadata, tags), sorted keys and a
  trailing newline, so that regenerating gives identical bytes;
* locks the check cells (``editable``/``deletable`` false) and keeps solution
  cells from being deleted, as nbgrader does.

``--check`` writes nothing and exits 1 if ``exercises/`` is out of date.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from nnlearn.exercises.notebook import (
    KERNELSPEC,
    REMOVE_TAGS,
    dumps_notebook,
    exercise_cells,
    is_check_cell,
    is_solution_cell,
    read_notebook,
    strip_hidden_tests,
    validate_notebook,
)
from nnlearn.exercises.registry import get_exercise, split_assignment

REPO_ROOT = Path(__file__).resolve().parents[2]
_SOLUTION_NAME_RE = re.compile(r"\d+_[a-z][a-z0-9_]*\.ipynb")


def stub_line(label: str, function: str, title: str) -> str:
    """``raise NotImplementedError("Exercise 3.2: dense_backward: <title>")``."""
    message = f"Exercise {label}: {function}: {title}"
    return 'raise NotImplementedError("' + message.replace("\\", "\\\\").replace('"', '\\"') + '")'


def replace_solutions(source: str, stub: str) -> str:
    """Replace each solution region with ``# YOUR CODE HERE`` and ``stub``, indented like
    the ``### BEGIN SOLUTION`` line (nbgrader's ClearSolutions, with our stub)."""
    lines, inside = [], False
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines += [f"{indent}# YOUR CODE HERE", f"{indent}{stub}"]
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def _clean_cell(cell: NotebookNode, index: int) -> NotebookNode:
    """Only stable content: source, id, nbgrader metadata and tags; no outputs."""
    metadata = {}
    if "nbgrader" in cell.metadata:
        metadata["nbgrader"] = dict(cell.metadata.nbgrader)
    tags = [t for t in cell.metadata.get("tags", []) if t not in REMOVE_TAGS]
    if tags:
        metadata["tags"] = tags
    if cell.cell_type == "code":
        new = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
    elif cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
    else:
        new = nbformat.v4.new_raw_cell(cell.source, metadata=metadata)
    new["id"] = cell.get("id") or f"cell-{index:02d}"
    return new


def make_exercise_notebook(solution: NotebookNode, assignment: str) -> NotebookNode:
    """The student version of a (valid) solution notebook."""
    validate_notebook(solution, assignment)
    lesson, _ = split_assignment(assignment)
    numbers = {ex.solution_index: ex for ex in exercise_cells(solution)}
    cells = []
    for index, cell in enumerate(solution.cells):
        if REMOVE_TAGS & set(cell.metadata.get("tags", [])):
            continue
        cell = _clean_cell(cell, index)
        if index in numbers:
            ex = numbers[index]
            title = get_exercise(ex.exercise_id).title
            stub = stub_line(f"{lesson}.{ex.number}", ex.function, title)
            cell.source = replace_solutions(cell.source, stub)
            ast.parse(cell.source)  # the stub must stay valid Python
            cell.metadata["deletable"] = False
        elif is_check_cell(cell):
            cell.source = strip_hidden_tests(cell.source).rstrip("\n")
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        assert not is_solution_cell(cell) or index in numbers, "unnumbered solution cell"
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
            "nnlearn": {"assignment": assignment},
        }
    )
    return nb


def expected_exercises(solutions: Path, out: Path) -> dict[Path, str]:
    """``{exercise path: its content}`` for every ``solutions/NN_topic.ipynb``."""
    result = {}
    for path in sorted(solutions.glob("*.ipynb")):
        if _SOLUTION_NAME_RE.fullmatch(path.name):
            nb = make_exercise_notebook(read_notebook(path), path.stem)
            result[out / path.name] = dumps_notebook(nb)
    return result


def _stale(out: Path, expected: dict[Path, str]) -> list[Path]:
    """Generated notebooks in ``out`` whose solution notebook no longer exists."""
    stale = []
    for path in sorted(out.glob("*.ipynb")):
        if path not in expected and _SOLUTION_NAME_RE.fullmatch(path.name):
            try:
                if "assignment" in read_notebook(path).metadata.get("nnlearn", {}):
                    stale.append(path)
            except Exception:  # not a readable notebook: not ours
                continue
    return stale


def differences(expected: dict[Path, str], out: Path) -> list[str]:
    """Human-readable reasons why ``out`` is not what would be generated."""
    found = []
    for path, text in expected.items():
        if not path.is_file():
            found.append(f"{path}: missing")
            continue
        actual = path.read_text(encoding="utf-8")
        if actual != text:
            diff = difflib.unified_diff(
                actual.splitlines(), text.splitlines(), "current", "generated", n=1, lineterm=""
            )
            lines = list(diff)[2:14]
            found.append(f"{path}: out of date\n      " + "\n      ".join(lines))
    found += [f"{path}: no solutions notebook generates it" for path in _stale(out, expected)]
    return found


# -- the subcommand --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--solutions", type=Path, default=REPO_ROOT / "solutions", metavar="DIR",
        help="folder of solution notebooks NN_topic.ipynb (default: the repository's solutions/)",
    )  # fmt: skip
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "exercises", metavar="DIR",
        help="folder for the exercise notebooks (default: the repository's exercises/)",
    )  # fmt: skip
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; exit 1 and list the differences if the exercises are out of date",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    solutions, out = Path(args.solutions), Path(args.out)
    if not solutions.is_dir():
        print(f"error: the solutions folder {solutions} does not exist", file=sys.stderr)
        return 2
    try:
        expected = expected_exercises(solutions, out)
    except ValueError as error:  # NotebookFormatError, unknown exercise ...
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        found = differences(expected, out)
        if found:
            print(f"{out} is out of date (run `nnlearn make-exercises`):", file=sys.stderr)
            for line in found:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"{out}: {len(expected)} exercise notebook(s) up to date")
        return 0
    for path, text in expected.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {path}")
    for path in _stale(out, expected):
        path.unlink()
        print(f"removed {path} (its solutions notebook is gone)")
    return 0
