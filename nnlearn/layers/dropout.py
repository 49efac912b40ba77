"""Dropout: randomly silence units while training, so no unit can rely on another."""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.base import Layer
from nnlearn.validation import check_float


class Dropout(Layer):
    r"""Inverted dropout with drop probability ``p``.

    Training: each unit is kept with probability q = 1 - p and the kept ones are
    scaled by 1/q, so the expected output equals the input:

    .. math::  m_i \sim \mathrm{Bernoulli}(q), \qquad out = x \odot m / q

    Evaluation: out = x (nothing to rescale; that is the point of "inverted").
    Backward: dx = dout * m / q, the same mask.

    ``fixed_mask`` (0/1 array of x's shape) replaces the random draw; gradient
    checks and lessons use it to make forward deterministic.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        super().__init__()
        self.p = check_float(p, "p", "Dropout", "in [0, 1)")
        self.rng = as_rng(rng)
        self.fixed_mask: np.ndarray | None = None

    def reset_parameters(self, rng: np.random.Generator) -> None:
        self.rng = rng  # a seeded model also seeds its dropout masks

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self.scaled_mask = None
            return x
        keep = 1.0 - self.p
        if self.fixed_mask is not None:
            mask = self.fixed_mask
        else:
            mask = self.rng.random(x.shape, dtype=np.float32) < keep
        self.scaled_mask = mask.astype(x.dtype) / x.dtype.type(keep)  # 0 or 1/q
        return x * self.scaled_mask

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        if self.scaled_mask is None:
            return dout
        return dout * self.scaled_mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
