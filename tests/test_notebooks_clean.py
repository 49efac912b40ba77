"""Notebooks are committed reviewable: valid nbformat, no outputs, no execution counts."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("lessons", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_notebook_is_valid_and_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts; clear them before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_every_lesson_exists():
    expected = ["01_perceptron", "02_activations", "03_backprop", "04_optimizers",
                "05_cnn", "06_rnn", "07_attention", "08_mnist"]
    missing = [f"{folder}/{name}.ipynb" for name in expected for folder in ("lessons", "solutions", "exercises")
               if not (ROOT / folder / f"{name}.ipynb").exists()]
    assert not missing, f"missing lessons: {missing}"
