"""Lesson 04 (optimizers): two-parameter loss surfaces, optimizer paths, and a "try it" widget.

A loss of two parameters ``w = (w1, w2)`` can be drawn as contour lines, and an
optimizer's path across it shows at a glance what its update rule does::

    from nnlearn.optim import Adam
    from nnlearn.widgets.optimizers import QUADRATIC, draw_trajectories, trajectory

    path = trajectory(QUADRATIC, lambda pairs: Adam(pairs, lr=0.3), steps=50)  # (51, 2)
    draw_trajectories(QUADRATIC, {"Adam": path})

* :class:`Surface`, :data:`QUADRATIC`, :data:`ROSENBROCK` — the loss, its gradient
  and where to start.
* :func:`trajectory` — run any ``nnlearn.optim`` optimizer on a surface.
* :func:`draw_trajectories`, :func:`compare_optimizers` — contours and paths.
* :func:`optimizer_widget` — pick optimizers, learning rate and number of steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from nnlearn.init import RngLike, as_rng
from nnlearn.optim import SGD, Adam, Momentum, Optimizer, RMSprop
from nnlearn.plots import plot_loss_surface, plot_trajectory


@dataclass(frozen=True)
class Surface:
    """A loss of two parameters, L(w1, w2), with its gradient.

    Attributes
    ----------
    name : str, shown in plot titles
    f : vectorised callable ``f(x, y) -> z`` (arrays of one shape), for the contours
    grad : callable ``grad(w) -> dw`` for a point w of shape (2,), returns shape (2,)
    x_range, y_range : (low, high) of the plotted region
    start : the starting point (w1, w2) of every path
    minimum : where the loss is smallest (drawn as a cross)
    lr : a learning rate that suits plain SGD there (the widget's default)
    """

    name: str
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float]
    lr: float

    def loss(self, w: np.ndarray) -> np.ndarray:
        """L at points w of shape (2,) or (K, 2) -> a scalar or shape (K,)."""
        w = np.asarray(w, dtype=float)
        return self.f(w[..., 0], w[..., 1])


# -- the surfaces -------------------------------------------------------------------
CONDITION = 50.0
"""Curvature ratio of :data:`QUADRATIC`: the valley is 50 times steeper across than along."""


def _quadratic(x, y):
    return 0.5 * (x**2 + CONDITION * y**2)


def _quadratic_grad(w):
    return np.array([w[0], CONDITION * w[1]])  # (2,)


QUADRATIC = Surface(
    name=f"L = (w1² + {CONDITION:g} w2²) / 2", f=_quadratic, grad=_quadratic_grad,
    x_range=(-5.0, 5.0), y_range=(-2.0, 2.0), start=(-4.5, 1.5), minimum=(0.0, 0.0), lr=0.03,
)
r"""The ill-conditioned quadratic :math:`L = \frac12 (w_1^2 + 50\, w_2^2)`.

Its Hessian is diag(1, 50): plain gradient descent needs lr < 2/50 = 0.04 to
stay stable across the valley, and then crawls along it by a factor
(1 - lr) per step."""


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])  # (2,)


ROSENBROCK = Surface(
    name="Rosenbrock  L = (1 - w1)² + 100 (w2 - w1²)²", f=_rosenbrock, grad=_rosenbrock_grad,
    x_range=(-2.0, 2.0), y_range=(-1.0, 3.0), start=(-1.5, 2.5), minimum=(1.0, 1.0), lr=1e-3,
)
"""Rosenbrock's banana: a curved, flat-bottomed valley leading to the minimum at (1, 1)."""

SURFACES = {"quadratic": QUADRATIC, "rosenbrock": ROSENBROCK}

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "SGD": SGD, "Momentum": Momentum, "RMSprop": RMSprop, "Adam": Adam,
}
"""The optimizers the widget offers, built as ``cls(pairs, lr=lr)`` with their default settings."""


def _surface(surface: Surface | str) -> Surface:
    if isinstance(surface, Surface):
        return surface
    if surface in SURFACES:
        return SURFACES[surface]
    raise ValueError(f"The 'surface' parameter must be a Surface or one of {sorted(SURFACES)}. "
                     f"Got {surface!r} instead.")


# -- running an optimizer ------------------------------------------------------------
def trajectory(surface: Surface | str, make_optimizer: Callable[[list], Optimizer], steps: int,
               start: Sequence[float] | None = None, noise: float = 0.0, rng: RngLike = None,
               limit: float = 1e3) -> np.ndarray:
    """Run an optimizer on a 2-D loss and return the points it visits.

    The parameter is one array ``w`` of shape (2,) with its gradient ``g``; the
    optimizer is built on the pair ``[({"w": w}, {"w": g})]`` and every step
    writes the gradient into ``g`` (in place) and calls ``step()``::

        g[...] = surface.grad(w) + noise * eps      # eps ~ N(0, I)
        optimizer.step()                             # updates w in place

    Parameters
    ----------
    surface : a :class:`Surface` or its name in :data:`SURFACES`
    make_optimizer : callable ``pairs -> Optimizer``, e.g. ``lambda pairs: Adam(pairs, lr=0.3)``
    steps : K, the number of steps (int >= 0)
    start : first point (default ``surface.start``)
    noise : std of Gaussian noise added to each gradient (a stand-in for minibatch noise)
    rng : seed or Generator for the noise
    limit : stop early once a coordinate leaves [-limit, limit] or is not finite (diverged)

    Returns
    -------
    points : ndarray of shape (K + 1, 2), float64 — the start, then w after each step;
        fewer rows if the path diverged (its last row is the first point out of bounds)
    """
    surface = _surface(surface)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"The 'steps' parameter of trajectory must be an int >= 0. Got {steps!r} instead.")
    w = np.array(surface.start if start is None else start, dtype=float)  # (2,)
    if w.shape != (2,):
        raise ValueError(f"The 'start' parameter of trajectory must be a point (w1, w2). Got {start!r} instead.")
    g = np.zeros_like(w)  # (2,), written in place every step
    optimizer = make_optimizer([({"w": w}, {"w": g})])
    gen = as_rng(rng) if noise else None
    points = [w.copy()]
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected below
        for _ in range(steps):
            g[...] = surface.grad(w)
            if gen is not None:
                g += noise * gen.standard_normal(2)
            optimizer.step()
            points.append(w.copy())
            if not np.all(np.abs(w) <= limit):  # also catches NaN
                break
    return np.array(points)  # (K + 1, 2)


# -- drawing --------------------------------------------------------------------------
def _describe_end(surface: Surface, points: np.ndarray, steps: int | None) -> str:
    if steps is not None and len(points) < steps + 1:
        return f"diverged at step {len(points) - 1}"
    return f"L = {float(surface.loss(points[-1])):.2g}"


def clip_to_view(points: np.ndarray, x_range: tuple[float, float], y_range: tuple[float, float]) -> np.ndarray:
    """The path ``points`` (K, 2) up to where it runs far off the view, ending on the view's edge.

    A path may leave the view and come back (matplotlib clips those lines at the
    axes). But once a point lies more than one view-width (or -height) beyond the
    view, or is inf / NaN, the path has diverged: it is cut there and its last
    segment ends where it crosses the view's edge, so a diverging path is drawn as a
    line that runs off the picture instead of a tangle of lines to far-away points.
    """
    points = np.asarray(points, dtype=float)  # (K, 2)
    lo = np.array([x_range[0], y_range[0]])
    hi = np.array([x_range[1], y_range[1]])
    size = hi - lo
    near = np.all(np.isfinite(points) & (points >= lo - size) & (points <= hi + size), axis=1)  # (K,)
    if near.all():
        return points
    k = int(np.argmin(near))  # the first point far away
    if k == 0 or not np.all(np.isfinite(points[k])):
        return points[:k]
    start, step = points[k - 1], points[k] - points[k - 1]  # (2,), (2,)
    with np.errstate(divide="ignore", invalid="ignore"):  # t at which each coordinate hits its edge
        t_edge = np.where(step > 0, (hi - start) / step, np.where(step < 0, (lo - start) / step, np.inf))
    t = float(np.clip(t_edge.min(), 0.0, 1.0))
    return np.vstack([points[:k], start + t * step])


def draw_trajectories(surface: Surface | str, paths: dict[str, np.ndarray], ax: Axes | None = None,
                      steps: int | None = None, title: str | None = None) -> Axes:
    """Contours of ``surface`` with one path per entry of ``paths`` ({label: points (K, 2)}).

    The view stays on the surface's region: a path that leaves it is drawn up to
    the edge (:func:`clip_to_view`), not as lines to far-away points. The minimum
    is a black cross. With ``steps`` given, each label also says where
    its path ended: ``L = ...`` or ``diverged at step k``.
    """
    surface = _surface(surface)
    ax = plot_loss_surface(surface.f, surface.x_range, surface.y_range, ax=ax)
    for label, points in paths.items():
        points = np.asarray(points, dtype=float)
        shown = clip_to_view(points, surface.x_range, surface.y_range)
        plot_trajectory(shown, ax=ax, label=f"{label}: {_describe_end(surface, points, steps)}")
    ax.plot(*surface.minimum, marker="x", color="k", markersize=9, linestyle="none")
    ax.set_xlim(*surface.x_range)
    ax.set_ylim(*surface.y_range)
    ax.set_title(title if title is not None else surface.name)
    ax.legend(loc="upper right", fontsize="small")
    return ax


def compare_optimizers(names: Sequence[str] = tuple(OPTIMIZERS), lr: float = 0.03, steps: int = 50,
                       surface: Surface | str = "quadratic", ax: Axes | None = None) -> Axes:
    """Run each optimizer of ``names`` (keys of :data:`OPTIMIZERS`) with the same ``lr`` and draw the paths.

    This is what :func:`optimizer_widget` redraws; call it directly to get the same picture.
    """
    unknown = [name for name in names if name not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"The 'names' parameter of compare_optimizers must list names from "
                         f"{list(OPTIMIZERS)}. Got {unknown} instead.")
    surface = _surface(surface)
    paths = {name: trajectory(surface, lambda pairs, cls=OPTIMIZERS[name]: cls(pairs, lr=lr), steps)
             for name in names}
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    return draw_trajectories(surface, paths, ax=ax, steps=steps,
                             title=f"{surface.name}\nlr = {lr:.3g}, {steps} steps")


def optimizer_widget(names: Sequence[str] = tuple(OPTIMIZERS), lr: float | None = None,
                     steps: int = 50, surface: str = "quadratic"):
    """A "try it" control: choose optimizers, the learning rate, the steps and the surface.

    Every change redraws :func:`compare_optimizers`. Switching surface resets the
    learning rate to that surface's ``lr``. Returns an ``ipywidgets`` widget
    (display it as a cell's last expression).
    """
    import ipywidgets as widgets

    if surface not in SURFACES:
        raise ValueError(f"The 'surface' parameter of optimizer_widget must be one of {list(SURFACES)}. "
                         f"Got {surface!r} instead.")
    surface_box = widgets.Dropdown(options=list(SURFACES), value=surface, description="surface")
    names_box = widgets.SelectMultiple(options=list(OPTIMIZERS), value=tuple(names), rows=len(OPTIMIZERS),
                                       description="optimizers")
    lr_slider = widgets.FloatLogSlider(value=SURFACES[surface].lr if lr is None else lr, base=10, min=-4,
                                       max=0, step=0.05, description="lr", readout_format=".2g",
                                       continuous_update=False)
    steps_slider = widgets.IntSlider(value=steps, min=1, max=300, description="steps",
                                     continuous_update=False)

    def reset_lr(change) -> None:
        lr_slider.value = SURFACES[change["new"]].lr

    surface_box.observe(reset_lr, names="value")

    def draw(names, lr, steps, surface) -> None:
        compare_optimizers(names, lr, steps, surface)
        plt.show()

    return widgets.interactive(draw, names=names_box, lr=lr_slider, steps=steps_slider, surface=surface_box)
