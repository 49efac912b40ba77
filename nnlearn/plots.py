"""Plots the lessons share.

Every function draws on a Matplotlib ``Axes`` — the one you pass as ``ax``,
or a new figure's — and returns it, so plots can be combined and restyled::

    fig, (ax1, ax2) = plt.subplots(1, 2)
    plot_decision_boundary(model, x, y, ax=ax1)
    plot_history(model, metrics=("loss",), axes=[ax2])

Nothing here calls ``plt.show()``: notebooks display figures by themselves.

* :func:`plot_decision_boundary` — the regions a classifier assigns to each
  class, with the data on top (lessons 01-03).
* :func:`plot_history` — training and validation curves per epoch.
* :func:`plot_function_and_derivative` — an activation and its slope (02).
* :func:`plot_loss_surface`, :func:`plot_trajectory` — contours of a 2-D loss
  and the path an optimizer takes across it (04).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.ticker import MaxNLocator

# Class colours: matplotlib's "tab10" palette, the same for regions and points.
_CLASS_COLORS = plt.get_cmap("tab10").colors


def _new_ax(ax: Axes | None, figsize=(5, 4)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


# -- decision boundaries -----------------------------------------------------------
def _predict_labels(predict, points: np.ndarray) -> np.ndarray:
    """Call the model on ``points`` (M, 2) and return int labels (M,)."""
    if hasattr(predict, "predict"):
        predict = predict.predict
    if not callable(predict):
        raise TypeError(
            "plot_decision_boundary: predict must be a callable mapping (M, 2) points to labels "
            f"or probabilities, or an object with a .predict method; got {type(predict).__name__}"
        )
    M = len(points)
    out = np.asarray(predict(points))
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]  # (M, 1) -> (M,)
    if out.shape[0] != M or out.ndim not in (1, 2):
        raise ValueError(
            f"plot_decision_boundary: predict returned shape {out.shape} for {M} points; "
            f"expected labels or probabilities of shape ({M},), ({M}, 1) or ({M}, C)"
        )
    if out.ndim == 2:  # (M, C) scores or probabilities
        return out.argmax(axis=1)
    if out.dtype.kind in "biu":  # labels
        return out.astype(np.int64)
    if np.all((out >= 0) & (out <= 1)):  # probability of class 1
        return (out > 0.5).astype(np.int64)
    if np.all(out == np.round(out)):  # labels stored as floats
        return out.astype(np.int64)
    raise ValueError(
        "plot_decision_boundary: predict returned floats outside [0, 1] that are not whole "
        f"numbers (min {out.min():.3g}, max {out.max():.3g}); expected labels or probabilities. "
        "If these are logits, apply a sigmoid (or softmax) first."
    )


def plot_decision_boundary(predict, x, y, ax: Axes | None = None, resolution: int = 200,
                           padding: float = 0.5, alpha: float = 0.3,
                           title: str | None = None) -> Axes:
    """Colour the plane by the class a classifier predicts, and draw the data.

    The model is evaluated on a ``resolution x resolution`` grid covering the
    data plus ``padding`` on every side; each grid point is coloured by its
    predicted class, and the points of ``x`` by their true class ``y``.

    Parameters
    ----------
    predict : callable mapping points of shape (M, 2) to labels (M,),
        probabilities of class 1 (M,) or (M, 1) — thresholded at 0.5 — or
        class scores (M, C) — arg-maxed; or an object with such a ``.predict``
    x : ndarray of shape (N, 2);  y : ndarray of shape (N,), int labels
    ax : Axes to draw on (default: a new figure)
    resolution : grid points along each axis
    padding : margin around the data, in data units
    alpha : opacity of the coloured regions

    Returns
    -------
    ax : the Axes, holding the filled contours and a scatter of the points
    """
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: x must have shape (N, 2); got {x.shape}")
    if len(y) != len(x):
        raise ValueError("plot_decision_boundary: x and y must have the same number of samples; "
                         f"got {len(x)} and {len(y)}")
    ax = _new_ax(ax)
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding  # (2,), (2,)
    grid_dtype = x.dtype if x.dtype.kind == "f" else np.float32
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution, dtype=grid_dtype),
                         np.linspace(lo[1], hi[1], resolution, dtype=grid_dtype))  # (R, R) each
    points = np.stack([xx.ravel(), yy.ravel()], axis=1)  # (R*R, 2)
    zz = _predict_labels(predict, points).reshape(xx.shape)  # (R, R)

    C = max(int(zz.max()), int(y.max()) if y.size else 0, 1) + 1  # at least 2 classes
    cmap = ListedColormap([_CLASS_COLORS[c % len(_CLASS_COLORS)] for c in range(C)])
    norm = BoundaryNorm(np.arange(C + 1) - 0.5, C)  # label c -> colour c
    ax.contourf(xx, yy, zz, levels=np.arange(C + 1) - 0.5, cmap=cmap, norm=norm, alpha=alpha)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap=cmap, norm=norm, s=18, edgecolors="k", linewidths=0.4)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title if title is not None else "Decision boundary")
    return ax


# -- training curves -----------------------------------------------------------------
def plot_history(history, metrics: Sequence[str] = ("loss", "accuracy"),
                 axes: Axes | Sequence[Axes] | None = None) -> list[Axes]:
    """Plot training (and validation) curves, one subplot per metric.

    Parameters
    ----------
    history : dict of lists such as ``{"loss": [...], "val_loss": [...],
        "accuracy": [...], "val_accuracy": [...]}``, one value per epoch — or
        an object with such a ``history_`` attribute (a fitted model)
    metrics : names to plot; metric ``m`` draws ``history[m]`` ("train") and
        ``history["val_" + m]`` ("validation"). Metrics with neither key are
        skipped without a message.
    axes : one Axes per plotted metric (default: a new row of subplots)

    Returns
    -------
    axes : list of the Axes drawn on, one per plotted metric; x is the epoch,
        counted from 1
    """
    if hasattr(history, "history_"):
        history = history.history_
    if not isinstance(history, dict):
        raise TypeError("plot_history: history must be a dict of lists or an object with a "
                        f"history_ attribute; got {type(history).__name__}")
    if isinstance(metrics, str):
        metrics = (metrics,)
    present = [m for m in metrics if m in history or f"val_{m}" in history]
    if not present:
        raise ValueError(f"plot_history: none of the metrics {tuple(metrics)} is in the history; "
                         f"it has the keys {sorted(history)}")
    if axes is None:
        _, axes = plt.subplots(1, len(present), figsize=(4.5 * len(present), 3.5), squeeze=False)
    axes = list(np.ravel(axes))[:len(present)]
    if len(axes) < len(present):
        raise ValueError(f"plot_history: got {len(axes)} axes for the {len(present)} metrics "
                         f"{present}; pass one Axes per metric")

    for ax, metric in zip(axes, present, strict=True):
        for key, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if key in history:
                values = np.asarray(history[key], dtype=float)  # (epochs,)
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker="o" if len(values) <= 30 else None,
                        markersize=3, label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        if f"val_{metric}" in history:  # a legend only when there is something to tell apart
            ax.legend()
    return axes


# -- functions and loss surfaces ----------------------------------------------------
def plot_function_and_derivative(f: Callable, df: Callable, x_range=(-6, 6),
                                 ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw f(x) and its derivative f'(x) on one axis (e.g. an activation).

    Parameters
    ----------
    f, df : vectorised callables, ndarray -> ndarray of the same shape
    x_range : (low, high) interval of x
    title : default: the name of ``f``
    """
    x = np.linspace(x_range[0], x_range[1], 400)  # (400,)
    ax = _new_ax(ax)
    ax.axhline(0, color="0.8", linewidth=0.8)
    ax.axvline(0, color="0.8", linewidth=0.8)
    ax.plot(x, np.asarray(f(x)), label="f(x)")
    ax.plot(x, np.asarray(df(x)), linestyle="--", label="f'(x)")
    ax.set_xlabel("x")
    ax.set_title(title if title is not None else getattr(f, "__name__", type(f).__name__))
    ax.legend()
    return ax


def plot_loss_surface(f: Callable, x_range, y_range, ax: Axes | None = None,
                      levels: int | Sequence[float] = 30, log: bool = True,
                      resolution: int = 200) -> Axes:
    """Contour lines of a loss of two parameters, L(x, y).

    Parameters
    ----------
    f : vectorised callable ``f(x, y) -> z`` on arrays of one shape, e.g.
        ``lambda x, y: (1 - x)**2 + 100 * (y - x**2)**2`` (Rosenbrock). For a
        function of a vector ``w`` of shape (2,) that indexes ``w[0], w[1]``,
        pass ``lambda x, y: loss(np.stack([x, y]))``.
    x_range, y_range : (low, high) of each axis
    levels : number of contour levels, or their values
    log : space the levels geometrically (losses that span orders of
        magnitude, like Rosenbrock's); needs some z > 0. Values <= 0 get no line.
    resolution : grid points along each axis

    Returns
    -------
    ax : the Axes, holding the contour lines; add paths with :func:`plot_trajectory`
    """
    xx, yy = np.meshgrid(np.linspace(*x_range, resolution),
                         np.linspace(*y_range, resolution))  # (R, R) each
    zz = np.asarray(f(xx, yy), dtype=float)  # (R, R)
    if zz.shape != xx.shape:
        raise ValueError(f"plot_loss_surface: f(x, y) must return the shape of x and y "
                         f"{xx.shape}; got {zz.shape}. Is f vectorised?")
    ax = _new_ax(ax)
    norm = None
    if log:
        positive = zz[zz > 0]
        if positive.size == 0:
            raise ValueError("plot_loss_surface: log=True needs some loss values > 0; got max "
                             f"{zz.max():.3g}. Pass log=False.")
        if isinstance(levels, (int, np.integer)):
            levels = np.geomspace(positive.min(), positive.max(), levels)
        norm = LogNorm(positive.min(), positive.max())
        zz = np.ma.masked_less_equal(zz, 0)  # no log of 0 (e.g. the minimum itself)
    ax.contour(xx, yy, zz, levels=levels, cmap="viridis", norm=norm, linewidths=0.8)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title("Loss surface" + (" (log-spaced levels)" if log else ""))
    return ax


def plot_trajectory(points, ax: Axes | None = None, label: str | None = None, **kwargs) -> Axes:
    """Draw an optimizer's path: points (K, 2), from points[0] to a star at points[-1].

    Extra keyword arguments (``color=...``) go to ``ax.plot``.
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"plot_trajectory: points must have shape (K, 2) with K >= 1; "
                         f"got {points.shape}")
    ax = _new_ax(ax)
    style = {"marker": "o", "markersize": 2.5, "linewidth": 1.2, **kwargs}
    (line,) = ax.plot(points[:, 0], points[:, 1], label=label, **style)
    ax.plot(*points[-1], marker="*", markersize=12, color=line.get_color(), linestyle="none")
    if label is not None:
        ax.legend()
    return ax
