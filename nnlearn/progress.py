"""Progress bars that show up wherever the code runs.

``tqdm.auto`` draws a widget bar inside any Jupyter kernel. That is right in
JupyterLab, Notebook 7 or VS Code, which render widgets, and wrong when a
notebook is executed headless (``nbconvert --execute``, nbval in the tests,
``nnlearn grade``): nobody renders the widget, and the saved notebook keeps an
empty "0%" bar. So :func:`progress` draws a widget bar only when a front end
that renders widgets is attached to the kernel, and a text bar otherwise.

"A front end that renders widgets is attached" is read from three signs:

* the kernel was started by a Jupyter server (JupyterLab, Notebook 7, VS Code
  on a server): the server sets ``JPY_SESSION_NAME`` for its kernels;
* VS Code started the kernel itself: its kernels inherit ``VSCODE_PID``;
* a widget manager has already connected: ipywidgets records its control
  channel (``Widget._control_comm``) when JupyterLab's manager opens it.

``NNLEARN_PROGRESS=text`` or ``=widget`` overrides the guess.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

PROGRESS_VARIABLE = "NNLEARN_PROGRESS"


def widgets_render() -> bool:
    """True when progress bars should be ipywidgets (see the module docstring)."""
    choice = os.environ.get(PROGRESS_VARIABLE, "").strip().lower()
    if choice in ("text", "widget"):
        return choice == "widget"
    if "ipykernel" not in sys.modules:
        return False  # a terminal or a script: never widgets
    if os.environ.get("JPY_SESSION_NAME") or os.environ.get("VSCODE_PID"):
        return True
    widget_module = sys.modules.get("ipywidgets.widgets.widget")
    widget = getattr(widget_module, "Widget", None)
    return getattr(widget, "_control_comm", None) is not None


def progress(iterable: Iterable, **kwargs):
    """``tqdm(iterable, **kwargs)``: a widget bar where widgets render, a text bar elsewhere."""
    if widgets_render():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(iterable, **kwargs)
