"""Lesson 06 (RNN): diagrams, gradient norms through time, and a temperature widget.

* :func:`draw_unrolled` — an RNN unrolled over T steps, with the BPTT path.
* :func:`draw_lstm_cell`, :func:`draw_gru_cell` — the gates of one step.
* :func:`gradient_norms_through_time` — measured ||dh_T/dh_t|| for every t.
* :func:`plot_gradient_norms` — those curves on a log scale.
* :func:`draw_temperature`, :func:`temperature_widget` — the next-character
  distribution of a language model at a temperature, and a sample.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyBboxPatch

from nnlearn.generate import generate, softmax_with_temperature
from nnlearn.init import RngLike, as_rng
from nnlearn.layers.lstm import LSTM
from nnlearn.layers.recurrent import Recurrent
from nnlearn.validation import check_float, check_int

__all__ = ["draw_unrolled", "draw_lstm_cell", "draw_gru_cell", "gradient_norms_through_time",
           "plot_gradient_norms", "draw_temperature", "temperature_widget"]

COLORS = {"x": "#cfe2f3", "h": "#fce5cd", "y": "#d9ead3", "sigmoid": "#f4cccc", "tanh": "#d9d2e9",
          "op": "#ffffff"}


# -- drawing primitives -------------------------------------------------------------------------
def _box(ax: Axes, xy, text: str, color: str, w: float = 0.8, h: float = 0.5, size: int = 11) -> None:
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05",
                                facecolor=color, edgecolor="black", linewidth=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=size)


def _op(ax: Axes, xy, text: str, r: float = 0.18) -> None:
    ax.add_patch(Circle(xy, r, facecolor=COLORS["op"], edgecolor="black", linewidth=1))
    ax.text(*xy, text, ha="center", va="center", fontsize=11)


def _arrow(ax: Axes, a, b, color: str = "black", style: str = "-|>", rad: float = 0.0, **kw) -> None:
    ax.annotate("", xy=b, xytext=a, arrowprops=dict(arrowstyle=style, color=color, lw=1.4,
                                                    connectionstyle=f"arc3,rad={rad}", **kw))


def _new_ax(ax: Axes | None, size) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


# -- the unrolled RNN -----------------------------------------------------------------------------
def draw_unrolled(T: int = 4, ax: Axes | None = None, backward: bool = True) -> Axes:
    """An RNN unrolled over T steps: x_t -> h_t -> y_t, h_{t-1} -> h_t with the same weights.

    With ``backward=True``, red arrows show backpropagation through time: the
    gradient reaching h_t comes from its output y_t and from h_{t+1}.
    """
    T = check_int(T, "T", "draw_unrolled")
    ax = _new_ax(ax, (2.2 * T + 2, 4.2))
    for t in range(1, T + 1):
        X = 2.2 * t
        _box(ax, (X, 0), f"$x_{t}$", COLORS["x"])
        _box(ax, (X, 1.5), f"$h_{t}$", COLORS["h"])
        _box(ax, (X, 3), f"$y_{t}$", COLORS["y"])
        _arrow(ax, (X, 0.3), (X, 1.2))
        ax.text(X + 0.1, 0.75, "$W_{ih}$", fontsize=9, va="center")
        _arrow(ax, (X, 1.8), (X, 2.7))
        ax.text(X + 0.1, 2.25, "$W_{hy}$", fontsize=9, va="center")
        _arrow(ax, (X - 1.8, 1.5), (X - 0.45, 1.5))
        ax.text(X - 1.1, 1.62, "$W_{hh}$", fontsize=9, ha="center")
        if backward:
            _arrow(ax, (X - 0.45, 1.3), (X - 1.8, 1.3), color="crimson")
            _arrow(ax, (X - 0.25, 2.7), (X - 0.25, 1.8), color="crimson")
    _box(ax, (0, 1.5), "$h_0$", COLORS["h"])
    ax.set_xlim(-0.7, 2.2 * T + 0.7)
    ax.set_ylim(-0.5, 3.5)
    title = f"An RNN unrolled over T = {T} steps: one cell, the same weights at every step"
    if backward:
        title += "\nred: BPTT, the gradient flows back along the outputs and through every $W_{hh}$"
    ax.set_title(title, fontsize=10)
    return ax


# -- gates ------------------------------------------------------------------------------------------
def draw_lstm_cell(ax: Axes | None = None) -> Axes:
    """One LSTM step: gates i, f, o (sigmoid), candidate g (tanh), the cell line c on top."""
    ax = _new_ax(ax, (8, 4.6))
    y_gate = 1.0
    gates = [("f", 1.5, "sigmoid", r"$\sigma$"), ("i", 3.0, "sigmoid", r"$\sigma$"),
             ("g", 4.3, "tanh", "tanh"), ("o", 6.2, "sigmoid", r"$\sigma$")]
    ax.plot([0.8, 1.5], [0, 0], color="black")
    ax.plot([0.8, 6.2], [0, 0], color="black")
    for name, X, kind, text in gates:
        _box(ax, (X, y_gate), text, COLORS[kind], w=0.7, h=0.45)
        ax.text(X + 0.42, y_gate - 0.33, f"${name}_t$", fontsize=10)
        _arrow(ax, (X, 0), (X, y_gate - 0.25))
    _box(ax, (0.0, 0.0), r"$[h_{t-1}, x_t]$", COLORS["x"], w=1.4, h=0.45, size=10)
    # the cell line
    _box(ax, (-0.2, 3.0), "$c_{t-1}$", COLORS["h"], w=0.8, h=0.45)
    _box(ax, (8.4, 3.0), "$c_t$", COLORS["h"], w=0.7, h=0.45)
    _op(ax, (1.5, 3.0), r"$\odot$")
    _op(ax, (3.6, 3.0), "+")
    _op(ax, (3.6, 2.0), r"$\odot$")
    _arrow(ax, (0.2, 3.0), (1.32, 3.0))
    _arrow(ax, (1.68, 3.0), (3.42, 3.0))
    _arrow(ax, (3.78, 3.0), (8.05, 3.0))
    _arrow(ax, (1.5, y_gate + 0.23), (1.5, 2.82))  # f scales c_{t-1}
    _arrow(ax, (3.0, y_gate + 0.23), (3.45, 1.88))  # i
    _arrow(ax, (4.3, y_gate + 0.23), (3.75, 1.88))  # g
    _arrow(ax, (3.6, 2.18), (3.6, 2.82))  # i * g written into the cell
    # output: h_t = o * tanh(c_t)
    _box(ax, (6.2, 2.35), "tanh", COLORS["tanh"], w=0.7, h=0.4, size=9)
    _arrow(ax, (6.2, 3.0), (6.2, 2.57))
    _op(ax, (7.2, 1.6), r"$\odot$")
    _arrow(ax, (6.2, 2.13), (7.05, 1.72))
    _arrow(ax, (6.2, y_gate + 0.23), (7.02, 1.55))
    _box(ax, (8.4, 1.6), "$h_t$", COLORS["h"], w=0.7, h=0.45)
    _arrow(ax, (7.38, 1.6), (8.05, 1.6))
    ax.set_xlim(-1.0, 9.0)
    ax.set_ylim(-0.5, 3.6)
    ax.set_title("LSTM step: $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$,  "
                 "$h_t = o_t \\odot \\tanh(c_t)$", fontsize=10)
    return ax


def draw_gru_cell(ax: Axes | None = None) -> Axes:
    """One GRU step: reset r and update z (sigmoid), candidate n (tanh), h_t mixes n and h_{t-1}."""
    ax = _new_ax(ax, (8, 4.6))
    _box(ax, (0.0, 0.0), r"$[h_{t-1}, x_t]$", COLORS["x"], w=1.4, h=0.45, size=10)
    ax.plot([0.7, 5.2], [0, 0], color="black")
    for name, X, kind, text in [("r", 1.6, "sigmoid", r"$\sigma$"), ("z", 3.0, "sigmoid", r"$\sigma$"),
                                ("n", 5.2, "tanh", "tanh")]:
        _box(ax, (X, 1.0), text, COLORS[kind], w=0.7, h=0.45)
        ax.text(X + 0.42, 0.67, f"${name}_t$", fontsize=10)
        _arrow(ax, (X, 0), (X, 0.75))
    _op(ax, (5.2, 2.0), r"$\odot$")  # r * (W_hn h + b_hn) feeds n
    ax.text(5.45, 2.3, "$r_t \\odot (h_{t-1}W_{hn} + b_{hn})$", fontsize=9)
    _arrow(ax, (1.6, 1.23), (5.02, 1.95), rad=-0.2)
    _arrow(ax, (5.2, 1.82), (5.2, 1.25))
    _box(ax, (-0.2, 3.0), "$h_{t-1}$", COLORS["h"], w=0.8, h=0.45)
    _op(ax, (3.0, 3.0), r"$\odot$")
    _op(ax, (6.5, 3.0), "+")
    _op(ax, (6.5, 1.6), r"$\odot$")
    _arrow(ax, (0.2, 3.0), (2.82, 3.0))
    _arrow(ax, (3.18, 3.0), (6.32, 3.0))
    _arrow(ax, (3.0, 1.23), (3.0, 2.82))
    ax.text(3.1, 2.2, "$z_t$", fontsize=10)
    _arrow(ax, (3.0, 1.5), (6.33, 1.55), rad=0.0)
    ax.text(4.4, 1.62, "$1 - z_t$", fontsize=9)
    _arrow(ax, (5.4, 1.0), (6.35, 1.5))
    _arrow(ax, (6.5, 1.78), (6.5, 2.82))
    _box(ax, (8.0, 3.0), "$h_t$", COLORS["h"], w=0.7, h=0.45)
    _arrow(ax, (6.68, 3.0), (7.65, 3.0))
    ax.set_xlim(-1.0, 8.6)
    ax.set_ylim(-0.5, 3.6)
    ax.set_title("GRU step: $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}$", fontsize=10)
    return ax


# -- gradients through time ---------------------------------------------------------------------------
def gradient_norms_through_time(layer: Recurrent, x: np.ndarray, rng: RngLike = None) -> np.ndarray:
    r"""Measured :math:`\|\partial (u \cdot h_T) / \partial h_t\|` for t = 0 .. T, averaged over the batch.

    ``u`` is a random unit vector per sequence, so the value is the length of one
    row-combination of the Jacobian :math:`\partial h_T / \partial h_t` (its size in a
    random direction; 1 at t = T). For each t the layer is re-run from the state
    it had at step t, on the remaining inputs, and BPTT returns the gradient with
    respect to that starting state (``dstate_``). For an LSTM the cell state c_t
    is held fixed: this is the gradient through h_t alone.

    Parameters
    ----------
    layer : RNN, LSTM or GRU (run in its own dtype)
    x : ndarray of shape (N, T, D)
    rng : seed or Generator for the directions u

    Returns
    -------
    ndarray of shape (T + 1,)
    """
    x = np.asarray(x, dtype=layer.dtype)
    N, T, _ = x.shape
    is_lstm = isinstance(layer, LSTM)
    layer.forward(x)
    hs = layer.hs.copy()  # (T + 1, N, H)
    cs = layer.cs.copy() if is_lstm else None
    u = as_rng(rng).standard_normal(hs.shape[1:]).astype(layer.dtype)  # (N, H)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    norms = np.ones(T + 1)
    for t in range(T):
        state = (hs[t], cs[t]) if is_lstm else hs[t]
        out = layer.forward(x[:, t:], state=state)
        layer.backward(np.zeros_like(out), dstate=(u, np.zeros_like(u)) if is_lstm else u)
        grad = layer.dstate_[0] if is_lstm else layer.dstate_  # dL/dh_t, (N, H)
        norms[t] = np.linalg.norm(grad, axis=1).mean()
    return norms


def plot_gradient_norms(curves: dict[str, np.ndarray], ax: Axes | None = None) -> Axes:
    """Each curve of (T + 1,) norms against the distance T - t, log scale."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for label, norms in curves.items():
        T = len(norms) - 1
        ax.semilogy(T - np.arange(T + 1), norms, label=label)
    ax.set(xlabel="steps back in time, T - t", ylabel=r"$\|\partial h_T / \partial h_t\|$",
           title="How much of the gradient at step T reaches step t")
    ax.legend()
    return ax


# -- temperature ---------------------------------------------------------------------------------------
def draw_temperature(model, tokenizer, prompt: str, temperature: float = 1.0, length: int = 120,
                     top: int = 12, rng: RngLike = 0, ax: Axes | None = None) -> tuple[Axes, str]:
    """The next-character distribution after ``prompt`` at ``temperature``, and a sample.

    Draws the ``top`` most likely next characters as bars (the distribution at
    temperature 1 in grey, at ``temperature`` in colour) and returns the axes and a
    sampled continuation of ``length`` characters (seeded by ``rng``).
    """
    temperature = check_float(temperature, "temperature", "draw_temperature", ">= 0")
    mode = model.layers[0].training
    model.eval()
    logits = model.forward(tokenizer.encode(prompt)[None, :])[0, -1]  # (V,)
    model.train(mode)  # back to the mode it was in
    p1 = softmax_with_temperature(logits, 1.0)
    pt = softmax_with_temperature(logits, temperature)
    order = np.argsort(-p1)[:top]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    positions = np.arange(len(order))
    ax.bar(positions - 0.2, p1[order], width=0.4, color="lightgrey", label="temperature 1")
    ax.bar(positions + 0.2, pt[order], width=0.4, color="tab:blue", label=f"temperature {temperature:g}")
    ax.set_xticks(positions, [repr(tokenizer.chars[i])[1:-1] or " " for i in order])
    ax.set(ylabel="probability", ylim=(0, 1), title=f"next character after {prompt[-30:]!r}")
    ax.legend()
    sample = generate(model, tokenizer, prompt, length, temperature, rng=rng)
    return ax, sample


def temperature_widget(model, tokenizer, prompt: str = "The ", length: int = 200):
    """A "try it" control: a temperature slider and a seed; redraws :func:`draw_temperature`
    and prints the sample. Returns an ``ipywidgets`` widget."""
    import ipywidgets as widgets

    slider = widgets.FloatSlider(value=0.7, min=0.0, max=2.0, step=0.05, description="temperature",
                                 continuous_update=False)
    seed = widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False)
    text = widgets.Text(value=prompt, description="prompt", continuous_update=False)

    def draw(temperature, seed, prompt) -> None:
        _, sample = draw_temperature(model, tokenizer, prompt or " ", temperature, length, rng=seed)
        plt.show()
        print(sample)

    return widgets.interactive(draw, temperature=slider, seed=seed, prompt=text)
