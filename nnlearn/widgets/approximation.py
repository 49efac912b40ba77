"""Universal approximation, built by hand: a 1-D function as a sum of shifted units.

One hidden layer of ``H`` units and a linear output computes
``f_hat(x) = c + sum_k a_k * act(w_k * x + b_k)``. This module *chooses* the weights
(no training) to show that such a sum can follow any continuous function on an
interval, and how many units a given accuracy needs:

* ``"relu"``: ``f_hat`` is the piecewise-linear interpolation of ``f`` at ``H + 1``
  knots ``t_0 < ... < t_H``: ``f_hat(x) = f(t_0) + sum_k a_k relu(x - t_k)``, where
  ``a_k`` is the change of slope at knot ``t_k``. Error ~ 1 / H**2 for smooth ``f``.
* ``"sigmoid"``: ``f_hat`` is a staircase of ``H`` steep sigmoid steps, one between
  each pair of knots, of height ``f(t_k) - f(t_{k-1})``. Error ~ 1 / H.

Cybenko (1989) proved that sums of sigmoids approximate any continuous function on a
compact set as closely as we like; it says nothing about how many units that takes
or whether gradient descent finds them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from nnlearn import activations as F

TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sin(2x) + x/2": lambda x: np.sin(2 * x) + 0.5 * x,
    "|x| - 1": lambda x: np.abs(x) - 1,
    "a smooth bump": lambda x: np.exp(-2 * x**2),
    "a step": lambda x: (x > 0.5).astype(float),
}
"""Target functions on [-3, 3] for the widget."""

X_RANGE = (-3.0, 3.0)


def unit_sum(f: Callable[[np.ndarray], np.ndarray], num_hidden: int, kind: str = "relu",
             x_range: tuple[float, float] = X_RANGE, steepness: float = 8.0) -> dict[str, np.ndarray]:
    """The weights of a one-hidden-layer network that follows ``f`` with ``num_hidden`` units.

    Parameters
    ----------
    f : callable, ndarray (N,) -> ndarray (N,), the target function
    num_hidden : int >= 1, the number of hidden units H
    kind : ``"relu"`` or ``"sigmoid"``
    x_range : the interval (lo, hi) to follow ``f`` on
    steepness : sigmoid steps rise over about ``spacing / steepness`` (sigmoid only)

    Returns
    -------
    dict with ``w``, ``b``, ``a`` of shape (H,) and ``c`` (a float): the network
    ``c + sum_k a_k act(w_k x + b_k)``, and ``knots`` of shape (H + 1,).
    """
    if kind not in ("relu", "sigmoid"):
        raise ValueError(f"The 'kind' parameter of unit_sum must be 'relu' or 'sigmoid'. Got {kind!r}.")
    if isinstance(num_hidden, bool) or not isinstance(num_hidden, (int, np.integer)) or num_hidden < 1:
        raise ValueError(f"The 'num_hidden' parameter of unit_sum must be an int >= 1. Got {num_hidden!r}.")
    knots = np.linspace(*x_range, num_hidden + 1)  # (H + 1,)
    values = np.asarray(f(knots), dtype=float)  # (H + 1,)
    if kind == "relu":  # unit k switches on at knot k and adds the change of slope there
        slopes = np.diff(values) / np.diff(knots)  # (H,): the slope of each piece
        a = np.diff(slopes, prepend=0.0)  # (H,): slope changes; the first is the first slope
        return {"w": np.ones(num_hidden), "b": -knots[:-1], "a": a, "c": float(values[0]), "knots": knots}
    spacing = knots[1] - knots[0]
    middles = (knots[:-1] + knots[1:]) / 2  # (H,): one step between each pair of knots
    w = np.full(num_hidden, steepness / spacing)
    return {"w": w, "b": -w * middles, "a": np.diff(values), "c": float(values[0]), "knots": knots}


def network_output(weights: dict[str, np.ndarray], x: np.ndarray, kind: str = "relu") -> np.ndarray:
    """``c + act(x w + b) @ a`` for x of shape (N,): the network of :func:`unit_sum`, shape (N,)."""
    act = F.relu if kind == "relu" else F.sigmoid
    hidden = act(np.asarray(x, dtype=float)[:, None] * weights["w"] + weights["b"])  # (N, 1) * (H,) -> (N, H)
    return weights["c"] + hidden @ weights["a"]  # (N, H) @ (H,) -> (N,)


def max_error(f: Callable, num_hidden: int, kind: str = "relu", x_range: tuple[float, float] = X_RANGE,
              resolution: int = 2001) -> float:
    """The largest |f(x) - f_hat(x)| over a fine grid of ``x_range``."""
    x = np.linspace(*x_range, resolution)
    return float(np.max(np.abs(f(x) - network_output(unit_sum(f, num_hidden, kind, x_range), x, kind))))


def width_for_error(f: Callable, target: float, kind: str = "relu", widths: Sequence[int] = (),
                    x_range: tuple[float, float] = X_RANGE) -> int | None:
    """The smallest width of ``widths`` (default 1 ... 2048, doubling) whose max error is <= ``target``."""
    for width in widths or [2**k for k in range(12)]:
        if max_error(f, width, kind, x_range) <= target:
            return int(width)
    return None


def draw_approximation(target: str = "sin(2x) + x/2", num_hidden: int = 8, kind: str = "relu",
                       ax: Axes | None = None, show_units: bool = True) -> Axes:
    """The target, the network of :func:`unit_sum` and (faintly) each unit's contribution."""
    if target not in TARGETS:
        raise ValueError(f"The 'target' parameter of draw_approximation must be one of {list(TARGETS)}. "
                         f"Got {target!r}.")
    f = TARGETS[target]
    weights = unit_sum(f, num_hidden, kind)
    x = np.linspace(*X_RANGE, 600)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if show_units and num_hidden <= 40:
        act = F.relu if kind == "relu" else F.sigmoid
        units = act(x[:, None] * weights["w"] + weights["b"]) * weights["a"]  # (600, H)
        ax.plot(x, weights["c"] + units, color="0.75", linewidth=0.8)
    ax.plot(x, f(x), "k--", linewidth=1.5, label="target f(x)")
    error = max_error(f, num_hidden, kind)
    ax.plot(x, network_output(weights, x, kind), "C1", linewidth=2,
            label=f"{num_hidden} {kind} units: max error {error:.3f}")
    ax.plot(weights["knots"], f(weights["knots"]), "o", color="C1", markersize=3)
    ax.set(xlabel="x", ylabel="f(x)", title=f"{target}: one hidden layer of {num_hidden} {kind} units")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def approximation_widget(target: str = "sin(2x) + x/2", num_hidden: int = 8, kind: str = "relu"):
    """An interactive :func:`draw_approximation`: the target, the number of units, their kind.

    Returns
    -------
    ipywidgets.interactive : display it as a cell's last expression
    """
    import ipywidgets as widgets

    target_box = widgets.Dropdown(options=list(TARGETS), value=target, description="target")
    units = widgets.IntSlider(value=num_hidden, min=1, max=64, description="units", continuous_update=False)
    kind_box = widgets.ToggleButtons(options=["relu", "sigmoid"], value=kind, description="units are")

    def show(target: str, num_hidden: int, kind: str) -> None:
        _, ax = plt.subplots(figsize=(7, 4))
        draw_approximation(target, num_hidden, kind, ax=ax)
        plt.show()

    return widgets.interactive(show, target=target_box, num_hidden=units, kind=kind_box)
