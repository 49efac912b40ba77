r"""Lesson 03 (backpropagation): a computational graph to poke at, and a boundary over epochs.

The graph is one neuron with a binary cross-entropy loss,

    u1 = w1 x1,   u2 = w2 x2,   a = u1 + u2 + b,   p = sigmoid(a),
    L = -[y log p + (1 - y) log(1 - p)],

small enough to write every forward value and every gradient dL/d(node) on it.

* :func:`neuron_graph` — the forward values and the gradients of every node.
* :func:`draw_neuron_graph` — the graph, values in black, gradients in red.
* :func:`neuron_graph_widget` — sliders for the inputs and weights driving it.
* :func:`draw_snapshot` — a model's decision boundary with weights saved at some
  epoch (and, optionally, the loss curve with that epoch marked).
* :func:`snapshot_slider` — a slider over the saved epochs driving :func:`draw_snapshot`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from nnlearn.activations import sigmoid
from nnlearn.plots import plot_decision_boundary

# -- the single-neuron graph -------------------------------------------------------------

# Where each node sits (data coordinates) and what it computes, in forward order.
_POSITIONS = {
    "w1": (0.0, 6.0), "x1": (0.0, 4.8), "w2": (0.0, 3.2), "x2": (0.0, 2.0), "b": (0.0, 0.5),
    "u1": (2.4, 5.4), "u2": (2.4, 2.6), "a": (4.6, 3.2), "p": (6.6, 3.2), "y": (6.6, 0.9),
    "L": (8.6, 3.2),
}  # fmt: skip
_OPS = {"u1": "×", "u2": "×", "a": "+", "p": "σ", "L": "BCE"}
_EDGES = [("w1", "u1"), ("x1", "u1"), ("w2", "u2"), ("x2", "u2"), ("u1", "a"), ("u2", "a"),
          ("b", "a"), ("a", "p"), ("p", "L"), ("y", "L")]  # fmt: skip


def neuron_graph(x1: float, x2: float, w1: float, w2: float, b: float, y: float) -> dict:
    r"""Forward values and gradients of every node of the single-neuron graph.

    Forward: :math:`u_1 = w_1 x_1,\ u_2 = w_2 x_2,\ a = u_1 + u_2 + b,\ p = \sigma(a),\
    L = -[y \log p + (1-y) \log(1-p)]`.

    Backward (the chain rule, from L to the leaves), with :math:`\bar v = \partial L / \partial v`:

    .. math::
        \bar L = 1,\quad \bar p = \frac{p - y}{p (1 - p)},\quad
        \bar a = \bar p\, \sigma'(a) = p - y,\quad
        \bar u_1 = \bar u_2 = \bar b = \bar a,\quad
        \bar w_1 = \bar u_1 x_1,\ \bar x_1 = \bar u_1 w_1 \ (\text{same for } w_2, x_2)

    Parameters
    ----------
    x1, x2 : the inputs;  w1, w2, b : the weights and the bias;  y : the label, 0 or 1
        (a probability in [0, 1] works too)

    Returns
    -------
    {"values": {node: float}, "grads": {node: float}} for the nodes
    x1 w1 x2 w2 b u1 u2 a p L (and y, which has a value but no gradient: it is data).
    ``grads["p"]`` is NaN once p rounds to exactly 1 (a > 36.7) or 0 (a < -745); every other
    gradient stays finite, because dL/da = p - y never divides by p (1 - p).
    """
    x1, x2, w1, w2, b, y = (float(v) for v in (x1, x2, w1, w2, b, y))
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"neuron_graph: the label y must lie in [0, 1]; got {y}")
    u1, u2 = w1 * x1, w2 * x2
    a = u1 + u2 + b
    p = float(sigmoid(a))
    L = max(a, 0.0) - a * y + float(np.log1p(np.exp(-abs(a))))  # BCE of p = sigmoid(a), stably
    values = {"x1": x1, "w1": w1, "x2": x2, "w2": w2, "b": b, "y": y,
              "u1": u1, "u2": u2, "a": a, "p": p, "L": L}  # fmt: skip

    dL = 1.0
    dp = dL * (p - y) / (p * (1 - p)) if 0.0 < p < 1.0 else float("nan")  # d(BCE)/dp
    da = dL * (p - y)  # dp * sigmoid'(a) = dp * p (1 - p): the p (1 - p) cancels
    du1 = du2 = db = da  # "+" passes the gradient unchanged to every input
    grads = {"L": dL, "p": dp, "a": da, "u1": du1, "u2": du2, "b": db,
             "w1": du1 * x1, "x1": du1 * w1,  # "×" swaps: d(w x)/dw = x, d(w x)/dx = w
             "w2": du2 * x2, "x2": du2 * w2}  # fmt: skip
    return {"values": values, "grads": grads}


def draw_neuron_graph(x1: float = 1.0, x2: float = -2.0, w1: float = 0.5, w2: float = -0.3,
                      b: float = 0.1, y: float = 1.0, ax: Axes | None = None) -> Axes:
    """Draw the single-neuron graph with every forward value (black) and gradient (red).

    Arrows run forward, from the leaves (inputs, weights, label) to the loss L;
    the gradients are what backpropagation sends back along them. Returns the Axes.
    """
    graph = neuron_graph(x1, x2, w1, w2, b, y)
    values, grads = graph["values"], graph["grads"]
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 5.2))
    box = {"boxstyle": "round,pad=0.35", "linewidth": 1.0}
    for src, dst in _EDGES:
        ax.annotate("", xy=_POSITIONS[dst], xytext=_POSITIONS[src],
                    arrowprops={"arrowstyle": "-|>", "color": "0.45", "lw": 1.2,
                                "shrinkA": 30, "shrinkB": 30})  # fmt: skip
    for name, (px, py) in _POSITIONS.items():
        op = _OPS.get(name)
        if op is None:  # a leaf: its value inside the box
            text, face, value = f"{name} = {values[name]:.3g}", "#e8f0fb", None
        else:  # an operation: the symbol inside, "name = value" above
            text, face, value = op, "#fdf1dc", f"{name} = {values[name]:.3g}"
        ax.text(px, py, text, ha="center", va="center", fontsize=12, fontweight="bold",
                bbox={**box, "facecolor": face, "edgecolor": "0.3"}, zorder=3)
        if value is not None:
            ax.text(px, py + 0.38, value, ha="center", va="bottom", fontsize=10)
        if name in grads:
            ax.text(px, py - 0.38, f"∂L/∂{name} = {grads[name]:.3g}", ha="center", va="top",
                    fontsize=10, color="tab:red")
    ax.set_xlim(-1.1, 9.6)
    ax.set_ylim(-0.2, 6.6)
    ax.set_axis_off()
    ax.set_title(f"one neuron + BCE: forward values (black), gradients ∂L/∂node (red); "
                 f"L = {values['L']:.4g}")
    return ax


def neuron_graph_widget(x1: float = 1.0, x2: float = -2.0, w1: float = 0.5, w2: float = -0.3,
                        b: float = 0.1, y: float = 1.0):
    """Sliders for the inputs, weights and label that redraw :func:`draw_neuron_graph`.

    Things to try: make the prediction confidently wrong (y = 1 and a << 0) and
    watch ∂L/∂a approach -1, never 0; set x1 = 0 and see ∂L/∂w1 vanish.
    """
    import ipywidgets as widgets

    def draw(x1: float, x2: float, w1: float, w2: float, b: float, y: float) -> None:
        draw_neuron_graph(x1, x2, w1, w2, b, y)
        plt.show()

    def slider(value: float, name: str) -> widgets.FloatSlider:
        return widgets.FloatSlider(value=value, min=-3.0, max=3.0, step=0.1, description=name,
                                   continuous_update=False)

    label = widgets.ToggleButtons(options=[("y = 0", 0.0), ("y = 1", 1.0)], value=float(y),
                                  description="label")
    return widgets.interactive(draw, x1=slider(x1, "x1"), x2=slider(x2, "x2"), w1=slider(w1, "w1"),
                               w2=slider(w2, "w2"), b=slider(b, "b"), y=label)


# -- decision boundaries over training ---------------------------------------------------


def _check_snapshots(snapshots: Mapping, epoch: int | None = None) -> list | None:
    """The weights saved at ``epoch`` (None: only check that ``snapshots`` is a non-empty dict)."""
    if not isinstance(snapshots, Mapping):
        raise TypeError("snapshots must be a dict {epoch: model.get_weights()}; "
                        f"got {type(snapshots).__name__}")
    if not snapshots:
        raise ValueError("snapshots is empty: save model.get_weights() at some epochs first")
    if epoch is None:
        return None
    if epoch not in snapshots:
        raise ValueError(f"No snapshot saved at epoch {epoch!r}; saved epochs: {sorted(snapshots)}")
    return snapshots[epoch]


def draw_snapshot(model, snapshots: Mapping[int, list], epoch: int, x: np.ndarray, y: np.ndarray,
                  history: Mapping[str, Sequence[float]] | None = None,
                  axes: Sequence[Axes] | None = None, resolution: int = 120) -> list[Axes]:
    """The decision boundary of ``model`` with the weights it had at ``epoch``.

    ``model`` itself is left untouched: a copy receives the saved weights.

    Parameters
    ----------
    model : a Sequential classifier (its architecture; its weights are not used)
    snapshots : {epoch: model.get_weights()}, e.g. filled by a LambdaCallback during fit
        (epoch 0 = the initial weights)
    epoch : a key of ``snapshots``
    x : ndarray of shape (N, 2);  y : ndarray of shape (N,), labels
    history : optional ``model.history_``; adds a panel with the loss curve and the epoch marked
    axes : one Axes (two with ``history``) to draw on; default: a new figure
    resolution : grid points per axis of the boundary plot

    Returns
    -------
    list of the Axes drawn on
    """
    weights = _check_snapshots(snapshots, epoch)
    panels = 1 if history is None else 2
    if axes is None:
        _, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4), squeeze=False)
        axes = list(axes[0])
    axes = list(axes)
    if len(axes) != panels:
        raise ValueError(f"draw_snapshot needs {panels} Axes (history given: {history is not None}); "
                         f"got {len(axes)}")
    frozen = copy.deepcopy(model).set_weights(weights)
    acc = float(np.mean(frozen.predict_classes(x) == np.asarray(y).reshape(-1)))
    plot_decision_boundary(frozen.predict_classes, x, y, ax=axes[0], resolution=resolution,
                           title=f"epoch {epoch}: accuracy {acc:.3f}")
    if history is not None:
        ax = axes[1]
        for key, style in (("loss", "-"), ("val_loss", "--")):
            if key in history:
                values = np.asarray(history[key], dtype=float)  # (epochs,)
                ax.plot(np.arange(1, len(values) + 1), values, style, label=key)
        ax.axvline(epoch, color="tab:red", lw=1.2, label=f"epoch {epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title("loss during training")
        ax.legend()
    return axes


def snapshot_slider(model, snapshots: Mapping[int, list], x: np.ndarray, y: np.ndarray,
                    history: Mapping[str, Sequence[float]] | None = None):
    """A slider over the saved epochs that redraws :func:`draw_snapshot` (display it as the
    cell's last expression). Each move costs one forward pass over a grid: well under a second."""
    import ipywidgets as widgets

    _check_snapshots(snapshots)
    epochs = sorted(snapshots)

    def draw(epoch: int) -> None:
        draw_snapshot(model, snapshots, epoch, x, y, history=history)
        plt.tight_layout()
        plt.show()

    slider = widgets.SelectionSlider(options=epochs, value=epochs[0], description="epoch",
                                     continuous_update=False)
    return widgets.interactive(draw, epoch=slider)
