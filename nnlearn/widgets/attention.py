"""Lesson 07 (attention): attention-weight heatmaps, and a widget to step through them.

After a forward pass every :class:`~nnlearn.layers.MultiHeadAttention` keeps its
weights (N, h, T_q, T_k); row i of a head's map says how much query position i
took from each key position::

    maps = attention_maps(model, x)            # (L, N, h, T, T), L attention layers
    draw_attention(maps[0, 0, 1], tokens, tokens)    # layer 0, example 0, head 1
    attention_explorer(maps, [list(map(str, row)) for row in x])   # sliders

* :func:`attention_maps` — run a model and collect the weights of all its attention layers.
* :func:`draw_attention` — one heatmap, with the tokens as tick labels.
* :func:`draw_heads` — every head of one layer for one example, side by side.
* :func:`attention_explorer` — sliders over examples, layers and heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from nnlearn.layers.attention import MultiHeadAttention

__all__ = ["attention_explorer", "attention_maps", "draw_attention", "draw_heads"]


def attention_maps(model, x: np.ndarray) -> np.ndarray:
    """The attention weights of every MultiHeadAttention in ``model`` for input ``x``.

    Runs ``model.forward(x)`` in evaluation mode (restoring the mode afterwards)
    and stacks the layers' weights in the order of the layer tree.

    Returns
    -------
    ndarray of shape (L, N, h, T_q, T_k), L = number of attention layers
    """
    layers = [layer for _, layer in model.named_layers() if isinstance(layer, MultiHeadAttention)]
    if not layers:
        raise ValueError(f"attention_maps found no MultiHeadAttention inside {type(model).__name__}")
    mode = model.training
    model.eval()
    try:
        model.forward(x)
    finally:
        model.train(mode)
    return np.stack([layer.weights for layer in layers])  # (L, N, h, T_q, T_k)


def _check_map(weights: np.ndarray) -> np.ndarray:
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(f"draw_attention expected weights of shape (T_q, T_k); got {weights.shape}")
    return weights


def draw_attention(weights: np.ndarray, query_labels: Sequence[str] | None = None,
                   key_labels: Sequence[str] | None = None, ax: Axes | None = None,
                   title: str | None = None) -> Axes:
    """Heatmap of one attention map: rows = queries (who looks), columns = keys (at whom).

    Parameters
    ----------
    weights : ndarray of shape (T_q, T_k), values in [0, 1]
    query_labels, key_labels : tick labels (e.g. the tokens), lengths T_q and T_k
    ax : Axes to draw on (default: a new figure)
    """
    weights = _check_map(weights)
    T_q, T_k = weights.shape
    for name, labels, size in (("query_labels", query_labels, T_q), ("key_labels", key_labels, T_k)):
        if labels is not None and len(labels) != size:
            raise ValueError(f"draw_attention expected {size} {name} for weights of shape "
                             f"{weights.shape}; got {len(labels)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * T_k + 1.8, 0.35 * T_q + 1.2))
    image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(T_k), key_labels if key_labels is not None else range(T_k),
                  fontsize=8)
    ax.set_yticks(range(T_q), query_labels if query_labels is not None else range(T_q),
                  fontsize=8)
    ax.set_xlabel("key position (attended to)")
    ax.set_ylabel("query position")
    if title:
        ax.set_title(title, fontsize=10)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def draw_heads(maps: np.ndarray, example: int = 0, layer: int = 0,
               tokens: Sequence[str] | None = None, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Every head of attention layer ``layer`` for example ``example``, side by side.

    ``maps`` : ndarray (L, N, h, T, T_k) from :func:`attention_maps`;
    ``tokens`` : labels of the T positions (queries and, for self-attention, keys).
    """
    maps = np.asarray(maps)
    if maps.ndim != 5:
        raise ValueError(f"draw_heads expected maps of shape (L, N, h, T, T_k); got {maps.shape}")
    L, N, h = maps.shape[:3]
    if not (0 <= layer < L and 0 <= example < N):
        raise ValueError(f"draw_heads: layer must be in [0, {L}) and example in [0, {N}); "
                         f"got layer={layer}, example={example}")
    if axes is None:
        _, axes = plt.subplots(1, h, figsize=(3.6 * h, 3.0), squeeze=False)
        axes = list(axes[0])
    axes = list(axes)
    if len(axes) != h:
        raise ValueError(f"draw_heads needs {h} Axes (one per head); got {len(axes)}")
    keys = tokens if tokens is not None and len(tokens) == maps.shape[4] else None
    for head, ax in enumerate(axes):
        draw_attention(maps[layer, example, head], tokens, keys, ax=ax,
                       title=f"layer {layer}, head {head}")
    return axes


def attention_explorer(maps: np.ndarray, tokens: Sequence[Sequence[str]] | None = None):
    """Sliders over examples and layers that redraw :func:`draw_heads` (display it as the
    cell's last expression). ``tokens[n]`` labels the positions of example n."""
    import ipywidgets as widgets

    maps = np.asarray(maps)
    if maps.ndim != 5:
        raise ValueError(f"attention_explorer expected maps of shape (L, N, h, T, T_k); "
                         f"got {maps.shape}")
    L, N = maps.shape[:2]

    def draw(example: int, layer: int) -> None:
        draw_heads(maps, example, layer, tokens[example] if tokens is not None else None)
        plt.tight_layout()
        plt.show()

    return widgets.interactive(
        draw,
        example=widgets.IntSlider(0, 0, N - 1, description="example", continuous_update=False),
        layer=widgets.IntSlider(0, 0, L - 1, description="layer", continuous_update=False),
    )
