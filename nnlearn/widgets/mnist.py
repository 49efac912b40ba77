"""Lesson 08 (MNIST): pictures of digits, of what a classifier predicts, and of where it looks.

* :func:`show_digits` — a grid of digits with titles.
* :func:`draw_prediction` — one digit, the predicted probabilities of the 10
  classes, and the saliency map of the predicted class.
* :func:`digit_widget` — pick a test digit with a slider and see both.

The drawing functions are plain functions (tests and the lesson call them
directly); the widget only wires a slider to :func:`draw_prediction`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from nnlearn.activations import softmax
from nnlearn.interpret import saliency
from nnlearn.model import Sequential

__all__ = ["digit_widget", "draw_prediction", "show_digits"]


def _image(x: np.ndarray) -> np.ndarray:
    """One digit as a (28, 28) array, from (784,), (1, 28, 28) or (28, 28)."""
    x = np.asarray(x)
    side = int(round(np.sqrt(x.size)))
    if side * side != x.size:
        raise ValueError(f"expected a square image (e.g. 784 = 28 x 28 pixels); got shape {x.shape}")
    return x.reshape(side, side)


def show_digits(images: np.ndarray, titles: Sequence[str] | None = None, columns: int = 10,
                cmap: str = "gray_r", size: float = 1.1):
    """A grid of digits (any of the layouts (N, 784), (N, 1, 28, 28), (N, 28, 28)); returns the figure."""
    images = np.asarray(images)
    N = len(images)
    if N == 0:
        raise ValueError("show_digits needs at least one image; got 0")
    rows = -(-N // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows * 1.15), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < N:
            ax.imshow(_image(images[k]), cmap=cmap)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    return fig


def draw_prediction(model: Sequential, image: np.ndarray, label: int | None = None, axes=None):
    """Draw a digit, its class probabilities and the saliency map of the predicted class.

    Parameters
    ----------
    model : Sequential producing 10 logits; it must accept ``image[None]``
    image : one input in the layout the model takes, e.g. (1, 28, 28) or (784,)
    label : the true class, if known (its bar is outlined, and named in the title)
    axes : three matplotlib axes to draw into (default: a new figure)

    Returns
    -------
    (axes, probabilities) — probabilities of shape (10,)
    """
    x = np.asarray(image, dtype=np.float32)[None]  # (1, ...)
    probabilities = softmax(model.predict(x).astype(np.float64))[0]  # (10,)
    predicted = int(probabilities.argmax())
    sal = _image(saliency(model, x, predicted)[0])  # (28, 28)
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(9, 2.8))
    ax_img, ax_prob, ax_sal = axes
    ax_img.imshow(_image(image), cmap="gray_r")
    truth = "" if label is None else f" (true {label})"
    ax_img.set_title(f"predicted {predicted}{truth}")
    ax_img.axis("off")
    colors = ["tab:blue"] * len(probabilities)
    colors[predicted] = "tab:green" if label is None or label == predicted else "tab:red"
    bars = ax_prob.bar(range(len(probabilities)), probabilities, color=colors)
    if label is not None:
        bars[label].set_edgecolor("black")
        bars[label].set_linewidth(2)
    ax_prob.set_xticks(range(len(probabilities)))
    ax_prob.set_ylim(0, 1)
    ax_prob.set_title("probabilities")
    ax_sal.imshow(sal, cmap="hot")
    ax_sal.set_title(f"saliency of class {predicted}")
    ax_sal.axis("off")
    return axes, probabilities


def digit_widget(model: Sequential, x: np.ndarray, y: np.ndarray | None = None, index: int = 0):
    """A slider over the digits of ``x``; each move redraws :func:`draw_prediction`."""
    import ipywidgets as widgets

    if not 0 <= index < len(x):
        raise ValueError(f"The 'index' parameter of digit_widget must be in [0, {len(x)}). Got {index!r} instead.")
    slider = widgets.IntSlider(value=index, min=0, max=len(x) - 1, description="test digit",
                               continuous_update=False)

    def draw(index: int) -> None:
        draw_prediction(model, x[index], None if y is None else int(y[index]))
        plt.show()

    return widgets.interactive(draw, index=slider)
