"""The fully connected (dense, affine, linear) layer."""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng, get_initializer
from nnlearn.layers.base import Layer
from nnlearn.validation import check_int


class Dense(Layer):
    r"""Fully connected layer: every output is a weighted sum of every input.

    .. math::  \mathrm{out} = x W + b

    Shapes: x (N, D_in), W (D_in, D_out), b (D_out,), out (N, D_out).
    Row n of ``out`` is the layer applied to sample n; the bias is broadcast
    over the batch.

    Any leading axes are allowed: x (N, T, D_in) gives out (N, T, D_out), the
    same layer applied at every time step (Keras' "TimeDistributed(Dense)").
    The leading axes are flattened into one batch axis of N*T rows, so it is
    still one matrix product.

    Backward, with dout = dL/d(out) of shape (N, D_out):

    .. math::
        \frac{\partial L}{\partial W} = x^\top \, dout, \qquad
        \frac{\partial L}{\partial b} = \sum_n dout_n, \qquad
        \frac{\partial L}{\partial x} = dout \, W^\top

    Parameters
    ----------
    in_features, out_features : int
        D_in and D_out.
    init : str
        Weight initializer from :mod:`nnlearn.init` ("he_normal" suits ReLU,
        "xavier_normal" suits tanh/sigmoid). Biases start at zero.
    rng : int, Generator or None
        Source of the initial weights (``Sequential(..., rng=seed)`` re-draws
        every layer from one seed).
    dtype : numpy dtype
        float32 for training; ``astype(np.float64)`` for gradient checks.
    """

    def __init__(self, in_features: int, out_features: int, init: str = "he_normal",
                 rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Dense")
        self.out_features = check_int(out_features, "out_features", "Dense")
        self.initializer = get_initializer(init)
        self.init = init
        self.params = {
            "w": np.empty((self.in_features, self.out_features), dtype=dtype),
            "b": np.zeros(self.out_features, dtype=dtype),
        }
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.reset_parameters(as_rng(rng))

    def reset_parameters(self, rng: np.random.Generator) -> None:
        w, b = self.params["w"], self.params["b"]
        w[...] = self.initializer(w.shape, rng, dtype=w.dtype)
        b[...] = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        w, b = self.params["w"], self.params["b"]
        if x.ndim < 2 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expected input of shape (N, {self.in_features}); got {x.shape} "
                f"(sequences (N, T, {self.in_features}) work too)"
            )
        if x.dtype != w.dtype:
            x = x.astype(w.dtype)  # no silent float64 work in a float32 network
        self.lead_shape = x.shape[:-1]  # (N,) or (N, T)
        self.x = x.reshape(-1, self.in_features)  # (N*T, D_in), kept for backward
        out = self.x @ w  # (N*T, D_in) @ (D_in, D_out) -> (N*T, D_out)
        out += b  # broadcast (D_out,) over the batch
        return out.reshape(*self.lead_shape, self.out_features)  # (N, T, D_out)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        w = self.params["w"]
        dout = dout.reshape(-1, self.out_features)  # (N, T, D_out) -> (N*T, D_out)
        np.matmul(self.x.T, dout, out=self.grads["w"])  # (D_in, N) @ (N, D_out) -> (D_in, D_out)
        np.sum(dout, axis=0, out=self.grads["b"])  # (N, D_out) -> (D_out,)
        if not need_dx:
            return None  # the first layer: nobody needs dL/dx, save a matmul
        dx = dout @ w.T  # (N, D_out) @ (D_out, D_in) -> (N, D_in)
        return dx.reshape(*self.lead_shape, self.in_features)  # (N, T, D_in)

    def __repr__(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features})"
