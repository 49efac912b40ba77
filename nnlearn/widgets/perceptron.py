r"""Lesson 01 (the perceptron): draw a neuron's decision line over the logic-gate points.

A neuron with two inputs, ``ŷ = step(w1 x1 + w2 x2 + b)``, splits the plane along
the line ``w1 x1 + w2 x2 + b = 0``: it outputs 1 on the side the weight vector
``w = (w1, w2)`` points to, and 0 on the other.

* :func:`count_misclassified` — how many points a neuron gets wrong.
* :func:`plot_neuron_line` — the line, the shaded "fires" side, the vector w
  and the points (misclassified ones crossed out), on one Axes.
* :func:`draw_gates` — one panel per logic gate (AND, OR, XOR) for the same neuron;
  :func:`legend_handles` — the legend those panels share.
* :func:`neuron_line_widget` — sliders for w1, w2 and b driving :func:`draw_gates`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from nnlearn.data import logic_gate
from nnlearn.perceptron import step

_CLASS_COLORS = plt.get_cmap("tab10").colors[:2]  # class 0 blue, class 1 orange (as nnlearn.plots)


def _check_points(w, b, x, y) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y).reshape(-1)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape (N, 2) (points in the plane); got {x.shape}")
    if w.shape != (2,):
        raise ValueError(f"w must hold 2 weights (w1, w2); got shape {w.shape}")
    if len(y) != len(x):
        raise ValueError(f"x and y must have the same number of samples; got {len(x)} and {len(y)}")
    return w, float(b), x, y


def count_misclassified(w: ArrayLike, b: float, x: ArrayLike, y: ArrayLike) -> int:
    """Number of points whose label differs from ``step(x @ w + b)``; x (N, 2), y (N,)."""
    w, b, x, y = _check_points(w, b, x, y)
    return int(np.sum(step(x @ w + b) != y))  # (N, 2) @ (2,) -> (N,)


def plot_neuron_line(w: ArrayLike, b: float, x: ArrayLike, y: ArrayLike, ax: Axes | None = None,
                     title: str | None = None, padding: float = 0.5) -> Axes:
    """Draw the neuron ``step(w·x + b)``: its decision line, the side where it fires, and the data.

    Parameters
    ----------
    w : array of shape (2,), the weights (w1, w2);  b : float, the bias
    x : ndarray of shape (N, 2), the points;  y : ndarray of shape (N,), labels 0 / 1
    ax : Axes to draw on (default: a new figure)
    title : prefix of the title, which ends with the number of misclassified points
    padding : margin around the points, in data units

    Returns
    -------
    ax : the Axes. The side where ``w·x + b >= 0`` (output 1) is shaded orange, the
        other blue; the arrow is ``w``, perpendicular to the line and pointing to
        the orange side; misclassified points are crossed out in red.
    """
    w, b, x, y = _check_points(w, b, x, y)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding  # (2,), (2,)

    # The two half-planes: evaluate the neuron on a grid.
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 201), np.linspace(lo[1], hi[1], 201))  # (R, R) each
    fires = step(g1 * w[0] + g2 * w[1] + b)  # (R, R)
    ax.contourf(g1, g2, fires, levels=[-0.5, 0.5, 1.5], colors=_CLASS_COLORS, alpha=0.15)

    # The line w1 x1 + w2 x2 + b = 0, solved for whichever coordinate it is steeper in.
    if abs(w[1]) >= abs(w[0]) and w[1] != 0:
        x1 = np.array([lo[0], hi[0]])
        ax.plot(x1, -(w[0] * x1 + b) / w[1], "k-", lw=1.5, label="$w \\cdot x + b = 0$")
    elif w[0] != 0:
        x2 = np.array([lo[1], hi[1]])
        ax.plot(-(w[1] * x2 + b) / w[0], x2, "k-", lw=1.5, label="$w \\cdot x + b = 0$")
    if np.any(w != 0):  # the arrow w, from the point of the line nearest the view's centre
        centre = (lo + hi) / 2
        foot = centre - (centre @ w + b) / (w @ w) * w  # projection of the centre onto the line
        if np.all((lo <= foot) & (foot <= hi)):  # the line crosses the view
            u = w / np.linalg.norm(w)  # (2,), unit length
            with np.errstate(divide="ignore", invalid="ignore"):  # room up to the view's edge along u
                room = np.where(u > 0, (hi - foot) / u, np.where(u < 0, (lo - foot) / u, np.inf))
            tip = foot + min(0.35 * (hi - lo).min(), 0.9 * room.min()) * u
            ax.annotate("", xy=tip, xytext=foot, arrowprops={"arrowstyle": "->", "lw": 1.5, "color": "k"})
            ax.annotate("$w$", xy=tip, xytext=(3, 3), textcoords="offset points")

    # The points, coloured by their true class; mistakes crossed out.
    wrong = step(x @ w + b) != y  # (N,)
    for label in (0, 1):
        mine = y == label
        ax.scatter(x[mine, 0], x[mine, 1], s=90, color=_CLASS_COLORS[label], edgecolors="k",
                   zorder=3, label=f"y = {label}")
    if wrong.any():
        ax.scatter(x[wrong, 0], x[wrong, 1], s=220, marker="x", color="red", linewidths=2.5,
                   zorder=4, label="misclassified")
    if not line_in_view(w, b, lo, hi):  # say where the line went instead of drawing nothing
        where = "no line: w = 0" if not np.any(w != 0) else "the line w·x + b = 0 is outside this view"
        side = "fires everywhere" if fires.all() else "fires nowhere" if not fires.any() else ""
        ax.text(0.5, 0.04, f"{where}\n(the neuron {side} here)" if side else where,
                transform=ax.transAxes, ha="center", va="bottom", fontsize="small",
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.6"})
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    count = f"{int(wrong.sum())} misclassified"
    ax.set_title(f"{title}: {count}" if title else count)
    return ax


def line_in_view(w: ArrayLike, b: float, lo: ArrayLike, hi: ArrayLike) -> bool:
    """Does the line ``w·x + b = 0`` cross the box ``lo <= x <= hi``? (Its corners differ in sign.)"""
    w, lo, hi = np.asarray(w, dtype=float), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    corners = np.array([[lo[0], lo[1]], [lo[0], hi[1]], [hi[0], lo[1]], [hi[0], hi[1]]])  # (4, 2)
    z = corners @ w + b  # (4,)
    return bool(np.any(w != 0) and z.min() <= 0 <= z.max())


def draw_gates(w1: float = 1.0, w2: float = 1.0, b: float = -1.5,
               gates: Sequence[str] = ("and", "or", "xor")) -> dict[str, int]:
    """One panel per logic gate, the same neuron ``step(w1 x1 + w2 x2 + b)`` in each.

    Returns ``{gate: number of misclassified points}``, e.g. ``{"and": 0, "or": 2, "xor": 3}``
    for the defaults (w1 = w2 = 1, b = -1.5: an AND gate).
    """
    fig, axes = plt.subplots(1, len(gates), figsize=(4 * len(gates), 4.6), squeeze=False,
                             layout="constrained")
    counts = {}
    for ax, gate in zip(axes[0], gates, strict=True):
        x, y = logic_gate(gate)
        plot_neuron_line([w1, w2], b, x, y, ax=ax, title=gate.upper())
        counts[gate] = count_misclassified([w1, w2], b, x, y)
    fig.legend(handles=legend_handles(), loc="outside lower center", ncol=4, fontsize="small")
    fig.suptitle(f"$\\hat y = \\mathrm{{step}}({w1:.2g}\\,x_1 {w2:+.2g}\\,x_2 {b:+.2g})$")
    return counts


def legend_handles() -> list[Line2D]:
    """Legend entries for :func:`plot_neuron_line` figures (e.g. ``fig.legend(handles=...)``)."""
    def marker(**kwargs) -> Line2D:
        return Line2D([], [], linestyle="none", **kwargs)

    return [
        Line2D([], [], color="k", label="$w \\cdot x + b = 0$"),
        marker(marker="o", markersize=9, markerfacecolor=_CLASS_COLORS[0], markeredgecolor="k", label="y = 0"),
        marker(marker="o", markersize=9, markerfacecolor=_CLASS_COLORS[1], markeredgecolor="k", label="y = 1"),
        marker(marker="x", markersize=11, markeredgewidth=2.5, color="red", label="misclassified"),
    ]


def neuron_line_widget(w1: float = 1.0, w2: float = 1.0, b: float = -1.5):
    """Sliders for ``w1, w2, b`` that redraw :func:`draw_gates`. Display it as a cell's last line.

    Try to find weights with 0 mistakes on AND, then on OR — and then on XOR.
    """
    import ipywidgets as widgets

    def draw(w1: float, w2: float, b: float) -> None:
        draw_gates(w1, w2, b)
        plt.show()

    def slider(value: float, description: str) -> widgets.FloatSlider:
        return widgets.FloatSlider(value=value, min=-3.0, max=3.0, step=0.1, description=description,
                                   continuous_update=False)

    return widgets.interactive(draw, w1=slider(w1, "w1"), w2=slider(w2, "w2"), b=slider(b, "b"))
