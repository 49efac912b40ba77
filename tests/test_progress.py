"""Progress bars: a widget only where a front end renders widgets, a text bar elsewhere."""

import sys

import nbformat
import pytest

from nnlearn import progress as progress_module
from nnlearn.headless import notebook_client
from nnlearn.progress import progress, widgets_render


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("NNLEARN_PROGRESS", "JPY_SESSION_NAME", "VSCODE_PID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_script_gets_a_text_bar(clean_env):
    clean_env.delitem(sys.modules, "ipykernel", raising=False)
    assert not widgets_render()
    bar = progress(range(3), disable=True)
    assert type(bar).__module__ == "tqdm.std"


@pytest.mark.parametrize("variable", ["JPY_SESSION_NAME", "VSCODE_PID"])
def test_a_kernel_started_by_a_front_end_gets_widgets(clean_env, variable):
    clean_env.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel", progress_module))
    clean_env.setenv(variable, "lessons/01_perceptron.ipynb")
    assert widgets_render()


def test_a_headless_kernel_gets_text_unless_told(clean_env):
    clean_env.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel", progress_module))
    assert not widgets_render()
    clean_env.setenv("NNLEARN_PROGRESS", "widget")
    assert widgets_render()
    clean_env.setenv("JPY_SESSION_NAME", "x.ipynb")
    clean_env.setenv("NNLEARN_PROGRESS", "text")
    assert not widgets_render()


def test_headless_execution_saves_a_text_bar_not_an_empty_widget(clean_env, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from nnlearn.data import xor\n"
        "from nnlearn.layers import Dense\n"
        "from nnlearn.losses import MSE\n"
        "from nnlearn.model import Sequential\n"
        "from nnlearn.optim import SGD\n"
        "x, y = xor()\n"
        "model = Sequential([Dense(2, 1)], rng=0)\n"
        "model.fit(x, y.reshape(-1, 1), loss=MSE(), optimizer=SGD(model.parameters(), lr=0.1), epochs=3)\n"
    )])
    notebook_client(nb, tmp_path, cell_timeout=60).execute()
    outputs = nb.cells[0].outputs
    assert not any("application/vnd.jupyter.widget-view+json" in out.get("data", {}) for out in outputs)
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "3/3" in text and "epoch" in text
