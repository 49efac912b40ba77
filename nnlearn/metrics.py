"""Metrics: numbers for people, not for gradients.

A loss must be differentiable so that training can follow its gradient;
a metric only has to be meaningful. Accuracy (the fraction of correct
predictions) is the one every classification lesson reports.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["accuracy"]


def accuracy(out: ArrayLike, y: ArrayLike, threshold: float | None = None) -> float:
    """Fraction of samples whose predicted class equals the target class.

    How the predicted class is read from ``out`` depends on its shape:

    * **multi-class**, ``out`` of shape (N, C) with C >= 2 (logits or
      probabilities, it makes no difference): the class with the largest score,
      ``argmax(out, axis=1)``. ``threshold`` must stay None.
    * **binary**, ``out`` of shape (N,) or (N, 1): class 1 where
      ``out > threshold``. There is no default, because the right threshold
      depends on what ``out`` holds: pass ``threshold=0.5`` for probabilities
      (after a sigmoid) and ``threshold=0.0`` for logits (sigmoid(z) > 0.5
      exactly when z > 0).

    Parameters
    ----------
    out : ndarray of shape (N, C), (N,) or (N, 1), the network's output
    y : ndarray, the targets: integer labels of shape (N,) (or (N, 1) for a
        binary task), or one-hot / probability rows of shape (N, C), read with
        argmax. For a binary task, targets count as class 1 where y > 0.5.
    threshold : float or None, see above

    Returns
    -------
    float in [0, 1]
    """
    out = np.asarray(out)
    y = np.asarray(y)
    if out.ndim not in (1, 2) or out.shape[0] == 0:
        raise ValueError(
            f"accuracy expected out of shape (N, C), (N,) or (N, 1) with N >= 1; got {out.shape}"
        )
    N = out.shape[0]
    binary = out.ndim == 1 or out.shape[1] == 1

    if binary:
        if threshold is None:
            raise ValueError(
                f"accuracy of a binary output (shape {out.shape}) needs a threshold: "
                f"threshold=0.5 if out holds probabilities, threshold=0.0 if it holds logits"
            )
        if y.shape not in {(N,), (N, 1)}:
            raise ValueError(
                f"accuracy expected y of shape (N,) = ({N},) or (N, 1) = ({N}, 1); got {y.shape}"
            )
        predicted = out.reshape(N) > threshold  # (N,)
        target = y.reshape(N) > 0.5  # (N,)
    else:
        C = out.shape[1]
        if threshold is not None:
            raise ValueError(
                f"accuracy: threshold applies only to binary outputs of shape (N,) or (N, 1); "
                f"out has shape {out.shape}, whose predicted class is the argmax. "
                f"Got threshold={threshold!r}"
            )
        predicted = out.argmax(axis=1)  # (N,)
        if y.shape == (N,):
            target = y
        elif y.shape == (N, C):
            target = y.argmax(axis=1)  # (N,)
        else:
            raise ValueError(
                f"accuracy expected y of shape (N,) = ({N},) with integer labels "
                f"or (N, C) = ({N}, {C}) with one-hot rows; got {y.shape}"
            )
    return float(np.count_nonzero(predicted == target) / N)  # count / N: cheaper than np.mean
