"""Layers that only change an array's shape."""

from __future__ import annotations

import numpy as np

from nnlearn.layers.base import Layer


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...); backward restores the shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_shape = x.shape
        return x.reshape(x.shape[0], -1)  # (N, ...) -> (N, D)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dout.reshape(self.input_shape)  # (N, D) -> (N, ...)
