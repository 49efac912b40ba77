"""Activation functions as layers, so they can sit inside a Sequential model.

Each layer remembers what its derivative needs and multiplies the upstream
gradient by the local derivative (the chain rule, elementwise):

    dL/dx = dL/d(out) * f'(x)

The formulas themselves live in :mod:`nnlearn.activations`.
"""

from __future__ import annotations

import numpy as np

from nnlearn import activations as F
from nnlearn.layers.base import Layer


class ReLU(Layer):
    r"""out = max(0, x);  f'(x) = 1 if x > 0 else 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0  # where the gradient flows
        # Not x * mask, which is faster but gives -inf * 0 = nan: relu(-inf) is 0, relu(nan) nan.
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dout * self.mask


class LeakyReLU(Layer):
    r"""out = x if x > 0 else alpha * x;  f'(x) = 1 or alpha. Never fully "dies"."""

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return F.leaky_relu(x, self.alpha)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dout * F.leaky_relu_grad(self.x, self.alpha)

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Sigmoid(Layer):
    r"""out = 1 / (1 + e^{-x});  f'(x) = out (1 - out)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = F.sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dout * self.out * (1 - self.out)


class Tanh(Layer):
    r"""out = tanh(x);  f'(x) = 1 - out^2."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dout * (1 - self.out**2)


class Softmax(Layer):
    r"""out_i = e^{x_i} / sum_j e^{x_j} over the last axis.

    For training a classifier prefer logits + ``SoftmaxCrossEntropy``, which
    fuses the two and is more stable; this layer is for showing probabilities.
    Backward is the vector-Jacobian product  dx = out * (dout - sum(dout * out)).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = F.softmax(x, axis=-1)
        return self.out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return F.softmax_backward(self.out, dout, axis=-1)
