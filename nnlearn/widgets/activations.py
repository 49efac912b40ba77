"""The "try it" control of lesson 02_activations: an activation, its slope, one point.

:func:`draw_activation` draws f(x) and f'(x) over an interval, marks the point
x0 on both curves and draws the tangent line of f at x0, whose slope *is*
f'(x0). :func:`activation_explorer` wraps it in a dropdown (which function)
and two sliders (x0, and the leaky-ReLU slope alpha)::

    from nnlearn.widgets.activations import activation_explorer, draw_activation

    draw_activation("sigmoid", x0=4.0)   # a plain figure (also works headless)
    activation_explorer()                # the interactive version
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from nnlearn import activations as F
from nnlearn.plots import plot_function_and_derivative

FUNCTIONS = ("sigmoid", "tanh", "relu", "leaky_relu")
"""The elementwise activations the explorer offers (softmax is not elementwise)."""


def _check_real(value, name: str, owner: str, rule: str = "", ok=lambda v: True) -> float:
    """Return ``value`` as a float if it is a finite real number with ``ok(value)``."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if is_real and math.isfinite(value) and ok(float(value)):
        return float(value)
    raise ValueError(f"The {name!r} parameter of {owner} must be a finite float{rule}. "
                     f"Got {value!r} instead.")


def activation_pair(name: str, alpha: float = 0.01) -> tuple[Callable, Callable]:
    """The activation called ``name`` and its derivative, as ``(f, df)``.

    Parameters
    ----------
    name : one of :data:`FUNCTIONS`
    alpha : the negative-side slope of ``"leaky_relu"`` (ignored otherwise)

    Returns
    -------
    f, df : vectorised callables, ndarray -> ndarray of the same shape
    """
    if name not in FUNCTIONS:
        raise ValueError(f"The 'name' parameter of activation_pair must be one of {list(FUNCTIONS)}. "
                         f"Got {name!r} instead.")
    if name == "leaky_relu":
        alpha = _check_real(alpha, "alpha", "activation_pair", " >= 0", lambda v: v >= 0)
        return (lambda x: F.leaky_relu(x, alpha)), (lambda x: F.leaky_relu_grad(x, alpha))
    return getattr(F, name), getattr(F, f"{name}_grad")


def draw_activation(name: str = "sigmoid", x0: float = 1.0, alpha: float = 0.1,
                    x_range: tuple[float, float] = (-6.0, 6.0), ax: Axes | None = None) -> Axes:
    """Draw f and f' of the activation ``name``, with the point x0 and the tangent there.

    The tangent line  y = f(x0) + f'(x0) (x - x0)  shows what the derivative
    means: where it is flat (f' near 0, a *saturated* unit) a change of x
    hardly changes f, so almost no gradient flows back through the unit.

    Parameters
    ----------
    name : one of :data:`FUNCTIONS`
    x0 : the point to mark, a float inside ``x_range``
    alpha : the negative-side slope of ``"leaky_relu"``, >= 0 (ignored otherwise)
    x_range : (low, high) interval of x
    ax : Axes to draw on (default: a new figure)

    Returns
    -------
    ax : the Axes, with the curves f and f' (from
        :func:`~nnlearn.plots.plot_function_and_derivative`), the two marked
        points and the tangent; the title gives f(x0) and f'(x0)
    """
    owner = "draw_activation"
    f, df = activation_pair(name, alpha)
    if not (isinstance(x_range, (tuple, list)) and len(x_range) == 2):
        raise ValueError(f"The 'x_range' parameter of {owner} must be a pair (low, high). "
                         f"Got {x_range!r} instead.")
    low = _check_real(x_range[0], "x_range[0]", owner)
    high = _check_real(x_range[1], "x_range[1]", owner, f" > x_range[0] = {low}", lambda v: v > low)
    x0 = _check_real(x0, "x0", owner, f" in [{low}, {high}]", lambda v: low <= v <= high)

    ax = plot_function_and_derivative(f, df, x_range=(low, high), ax=ax, title="")
    fx, dfx = float(f(np.array(x0))), float(df(np.array(x0)))
    half = (high - low) / 8  # the tangent spans a quarter of the plot
    xt = np.array([x0 - half, x0 + half])  # (2,)
    ax.plot(xt, fx + dfx * (xt - x0), color="C2", linestyle=":", linewidth=2, label="tangent at $x_0$")
    ax.plot([x0], [fx], "o", color="C0", markersize=7)
    ax.plot([x0], [dfx], "o", color="C1", markersize=7)
    ax.axvline(x0, color="0.6", linewidth=0.8, linestyle="--")

    x = np.linspace(low, high, 200)  # (200,), only to pick y-limits that fit both curves
    values = np.concatenate([f(x), df(x)])
    pad = 0.1 * (values.max() - values.min() + 1e-9)
    ax.set_ylim(values.min() - pad, values.max() + pad)
    shown = f"leaky_relu (alpha={alpha:g})" if name == "leaky_relu" else name
    ax.set_title(f"{shown}:  f({x0:.2f}) = {fx:.4g},  f'({x0:.2f}) = {dfx:.4g}")
    ax.set_ylabel("value")
    ax.legend(loc="upper left")
    return ax


def activation_explorer(x_range: tuple[float, float] = (-6.0, 6.0)):
    """An interactive :func:`draw_activation`: a function dropdown, an x0 slider, an alpha slider.

    The alpha slider is enabled only for ``"leaky_relu"``.

    Returns
    -------
    ipywidgets.interactive : display it as a cell's last expression
    """
    import ipywidgets as widgets

    low, high = float(x_range[0]), float(x_range[1])
    name = widgets.Dropdown(options=list(FUNCTIONS), value="sigmoid", description="function")
    x0 = widgets.FloatSlider(value=1.0, min=low, max=high, step=0.1, description="x0",
                             continuous_update=False)
    alpha = widgets.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01, description="alpha",
                                disabled=True, continuous_update=False)

    def sync_alpha(change) -> None:
        alpha.disabled = change["new"] != "leaky_relu"

    name.observe(sync_alpha, names="value")

    def show(name: str, x0: float, alpha: float) -> None:
        _, ax = plt.subplots(figsize=(6, 4))
        draw_activation(name, x0, alpha, x_range=(low, high), ax=ax)
        plt.show()

    return widgets.interactive(show, name=name, x0=x0, alpha=alpha)
