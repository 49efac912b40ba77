"""What did the network learn? Saliency maps and feature visualisation.

Both use the gradient of a **class score** with respect to the **input**
pixels, which backpropagation computes for free: run the model forward, start
the backward pass with ``dout = one_hot(c)`` instead of a loss gradient, and
``Sequential.backward(dout, need_dx=True)`` returns dscore_c/dx.

* :func:`input_gradient` / :func:`saliency` — for each image, how much each pixel
  would change its class score (Simonyan et al. 2014, "Deep inside
  convolutional networks"). A saliency map is the absolute value.
* :func:`class_saliency` — the average saliency over the images of each class.
* :func:`visualize_class` — start from grey noise and climb the gradient:
  ``x <- clip(x + lr * (dscore_c/dx - l2 * x), 0, 1)`` (:func:`ascent_step`),
  an input the network finds maximally "c".

The score is the class *logit* (before softmax): raising a probability can
also be done by lowering the other classes, which gives muddier pictures.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.model import Sequential

__all__ = ["ascent_step", "class_saliency", "input_gradient", "saliency", "visualize_class"]


def input_gradient(model: Sequential, x: np.ndarray, classes) -> np.ndarray:
    """d(logit of ``classes[n]``)/d(x[n]) for every image n, in evaluation mode.

    Parameters
    ----------
    model : Sequential whose output is logits (N, K)
    x : ndarray of shape (N, ...) (e.g. (N, 1, 28, 28) or (N, 784))
    classes : int or ndarray of shape (N,), the class whose score to differentiate

    Returns
    -------
    ndarray of the shape of x (float, the model's dtype)
    """
    x = model._check_x(x)
    mode = model.layers[0].training
    model.eval()
    try:
        out = model.forward(x)  # (N, K) logits
        N, K = out.shape
        classes = np.broadcast_to(np.asarray(classes), (N,))
        if classes.min() < 0 or classes.max() >= K:
            raise ValueError(f"input_gradient: classes must be in [0, {K}); got values in "
                             f"[{classes.min()}, {classes.max()}]")
        dout = np.zeros_like(out)  # (N, K)
        dout[np.arange(N), classes] = 1  # d score / d out: one-hot
        return model.backward(dout, need_dx=True)
    finally:
        model.train(mode)


def saliency(model: Sequential, x: np.ndarray, classes) -> np.ndarray:
    """Saliency map |d score_c / dx|, the shape of x."""
    return np.abs(input_gradient(model, x, classes))


def class_saliency(model: Sequential, x: np.ndarray, y: np.ndarray, num_classes: int = 10,
                   batch_size: int = 500) -> np.ndarray:
    """Mean saliency map of each class's images (for their own class): shape (K, *x.shape[1:])."""
    y = np.asarray(y)
    total = np.zeros((num_classes, *x.shape[1:]), dtype=np.float64)
    for i in range(0, len(x), batch_size):
        s = saliency(model, x[i:i + batch_size], y[i:i + batch_size])  # (B, ...)
        np.add.at(total, y[i:i + batch_size], s)  # rows of the same class add up
    counts = np.bincount(y, minlength=num_classes).reshape(-1, *[1] * (x.ndim - 1))
    return total / np.maximum(counts, 1)


def ascent_step(x: np.ndarray, grad: np.ndarray, lr: float, l2: float) -> np.ndarray:
    """One step of gradient *ascent* on the input: ``clip(x + lr * (grad - l2 * x), 0, 1)``.

    ``grad`` is dscore/dx; the ``- l2 * x`` term is the gradient of ``-l2/2 ||x||^2``,
    a penalty that keeps pixels off unless they help. Clipping keeps a valid image.
    """
    return np.clip(x + lr * (grad - l2 * x), 0.0, 1.0)


def visualize_class(model: Sequential, target: int, shape: tuple[int, ...] = (1, 28, 28),
                    steps: int = 200, lr: float = 0.1, l2: float = 0.05,
                    rng: RngLike = None) -> np.ndarray:
    """An input that maximises the logit of class ``target``, by gradient ascent from faint noise.

    Returns
    -------
    ndarray of shape ``shape`` with values in [0, 1]
    """
    rng = as_rng(rng)
    x = (0.1 + 0.05 * rng.standard_normal((1, *shape))).clip(0, 1).astype(model.dtype)
    for _ in range(steps):
        x = ascent_step(x, input_gradient(model, x, target), lr, l2).astype(model.dtype)
    return x[0]
