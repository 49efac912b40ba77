r"""Rosenblatt's perceptron (1958): one neuron with a step activation, and its learning rule.

The neuron computes a weighted sum of its inputs plus a bias, and fires (outputs 1)
when that sum is not negative:

.. math::
    z = w \cdot x + b = \sum_{d=1}^{D} w_d x_d + b, \qquad
    \hat y = \mathrm{step}(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}

For a batch of samples stacked as rows, ``x`` of shape (N, D), the same thing is
one matrix-vector product: ``z = x @ w + b`` of shape (N,).

The learning rule visits the samples one at a time, in order, and nudges the
weights only when the neuron gets a sample wrong:

.. math::
    w \leftarrow w + \mathrm{lr}\,(y - \hat y)\, x, \qquad
    b \leftarrow b + \mathrm{lr}\,(y - \hat y)

``y - ŷ`` is +1 (it should have fired: move w towards x), -1 (it should not have:
move w away from x) or 0 (right: change nothing). If a line ``w·x + b = 0``
separates the two classes, this rule finds one after finitely many mistakes
(Novikoff, 1962); if none exists — XOR — it never stops making mistakes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from nnlearn.init import RngLike, as_rng
from nnlearn.validation import as_array, check_finite, check_float, check_int

__all__ = ["Perceptron", "step"]


def step(z: ArrayLike) -> np.ndarray:
    """The Heaviside step, elementwise: 1 where ``z >= 0``, else 0 (int64, shape of ``z``)."""
    return (np.asarray(z) >= 0).astype(np.int64)


class Perceptron:
    r"""A single neuron ``ŷ = step(x @ w + b)`` trained with Rosenblatt's rule.

    Parameters
    ----------
    lr : float > 0
        Learning rate: the size of each correction ``lr * (y - ŷ) * x``.
    epochs : int >= 1
        Maximum number of passes over the data. Training stops earlier after
        the first epoch without a mistake (nothing can change after that).
    rng : int, Generator or None
        Source of the initial weights ``w ~ 0.01 * N(0, 1)`` (one draw of
        ``rng.standard_normal(D)``); the bias starts at 0.

    Attributes
    ----------
    w_ : ndarray of shape (D,), float64 — the learned weights
    b_ : float — the learned bias
    errors_ : list of int — mistakes (updates) made in each epoch
    converged_ : bool — True if the last epoch made no mistake, i.e. every
        training sample is classified correctly

    Example
    -------
    >>> x, y = logic_gate("or")
    >>> Perceptron(lr=0.1, rng=0).fit(x, y).predict(x)
    array([0, 1, 1, 1])
    """

    def __init__(self, lr: float = 0.1, epochs: int = 100, rng: RngLike = None) -> None:
        self.lr = lr
        self.epochs = epochs
        self.rng = rng

    # -- training ------------------------------------------------------------------
    def fit(self, x: ArrayLike, y: ArrayLike) -> Perceptron:
        """Learn ``w_`` and ``b_`` from samples ``x`` (N, D) and labels ``y`` (N,) in {0, 1}.

        The samples are visited in their given order, every epoch; returns ``self``.
        The rule is sequential by nature — each update changes the prediction for the
        next sample — so this is a loop over samples; ``predict`` is vectorised.
        """
        lr = check_float(self.lr, "lr", "Perceptron")
        epochs = check_int(self.epochs, "epochs", "Perceptron")
        x, y = self._check_xy(x, y)
        N, D = x.shape
        w = 0.01 * as_rng(self.rng).standard_normal(D)  # (D,)
        b = 0.0
        self.errors_ = []
        for _ in range(epochs):
            mistakes = 0
            for x_i, y_i in zip(x, y, strict=True):  # x_i (D,), y_i scalar
                error = y_i - (1 if x_i @ w + b >= 0 else 0)  # +1, -1 or 0
                if error:
                    w = w + lr * error * x_i  # (D,)
                    b = b + lr * error
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                break
        self.w_, self.b_ = w, float(b)
        self.converged_ = self.errors_[-1] == 0
        return self

    # -- using a trained perceptron ------------------------------------------------------
    def decision_function(self, x: ArrayLike) -> np.ndarray:
        """The weighted sums ``z = x @ w_ + b_``, shape (N,); ``z >= 0`` means class 1."""
        x = self._check_x(x, fitted=True)
        return x @ self.w_ + self.b_  # (N, D) @ (D,) -> (N,)

    def predict(self, x: ArrayLike) -> np.ndarray:
        """Class labels ``step(x @ w_ + b_)``: int64 array of shape (N,) with values 0 or 1."""
        return step(self.decision_function(x))

    def __repr__(self) -> str:
        return f"Perceptron(lr={self.lr!r}, epochs={self.epochs!r}, rng={self.rng!r})"

    # -- input checks ----------------------------------------------------------------
    def _check_x(self, x, fitted: bool = False) -> np.ndarray:
        if fitted and not hasattr(self, "w_"):
            raise ValueError("This Perceptron is not fitted yet. Call fit(x, y) before predict(x).")
        x = as_array(x, "x").astype(np.float64)
        if x.ndim != 2:
            hint = " — for a single sample use x[None, :]" if x.ndim == 1 else ""
            raise ValueError(f"x must be a 2-D array of shape (N, D); got shape {x.shape}{hint}")
        if fitted and x.shape[1] != len(self.w_):
            raise ValueError(
                f"x has {x.shape[1]} features per sample, but this Perceptron was fitted on "
                f"{len(self.w_)}; expected shape (N, {len(self.w_)}), got {x.shape}"
            )
        if len(x) == 0:
            raise ValueError(f"x must hold at least one sample; got shape {x.shape}")
        check_finite(x, "x")
        return x

    def _check_xy(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        x = self._check_x(x)
        y = as_array(y, "y")
        if y.shape != (len(x),):
            raise ValueError(
                f"y must be a 1-D array of N = {len(x)} labels, shape ({len(x)},), to match x "
                f"of shape {x.shape}; got shape {y.shape}"
            )
        labels = np.unique(y)
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"y must hold class labels 0 and 1 only; got the values {labels.tolist()}")
        return x, y.astype(np.int64)
