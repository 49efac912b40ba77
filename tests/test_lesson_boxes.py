"""Every "What the articles get wrong" box of lessons 01-04 is backed by an executed assert."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ["01_perceptron", "02_activations", "03_backprop", "04_optimizers"]
BOX = "What the articles get wrong"


@pytest.mark.parametrize("name", LESSONS)
def test_each_box_is_followed_by_a_cell_that_asserts(name):
    cells = nbformat.read(ROOT / "lessons" / f"{name}.ipynb", as_version=4).cells
    boxes = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and BOX in cell.source]
    assert boxes, f"{name} has no '{BOX}' box"
    for i in boxes:
        following = cells[i + 1] if i + 1 < len(cells) else None
        assert following is not None and following.cell_type == "code", f"{name}: box in cell {i} has no code"
        assert "assert" in following.source, f"{name}: the code after the box in cell {i} asserts nothing"
