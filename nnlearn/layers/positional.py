r"""Positions: attention itself does not know where a token stands, so we add it.

Self-attention treats its input as a *set*: permute the positions of x and the
output is permuted the same way, nothing else changes. To let "the token two
places back" mean something, a vector that depends on the position t is added
to each token's embedding, either a fixed sinusoid or a learned table.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.base import Layer
from nnlearn.validation import check_int


def sinusoidal_positions(T: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    r"""The (T, d_model) table of "Attention Is All You Need":

    .. math::
        PE_{t, 2i} = \sin\!\left(t / \text{base}^{2i/d}\right), \qquad
        PE_{t, 2i+1} = \cos\!\left(t / \text{base}^{2i/d}\right)

    Column pair i is a sine and a cosine of frequency :math:`\text{base}^{-2i/d}`,
    from one turn per 2π positions down to one per 2π · base: nearby positions
    get similar rows, and PE_{t+k} is a fixed rotation of PE_t, so a relative
    offset is a linear function of the encoding. ``d_model`` must be even.
    """
    T = check_int(T, "T", "sinusoidal_positions")
    d_model = check_int(d_model, "d_model", "sinusoidal_positions")
    if d_model % 2:
        raise ValueError(f"The 'd_model' parameter of sinusoidal_positions must be even. "
                         f"Got {d_model}.")
    t = np.arange(T)[:, None]  # (T, 1)
    freq = base ** (-np.arange(0, d_model, 2) / d_model)  # (d_model / 2,)
    pe = np.empty((T, d_model))
    pe[:, 0::2] = np.sin(t * freq)  # (T, d_model / 2)
    pe[:, 1::2] = np.cos(t * freq)
    return pe


def _check_sequence(layer, x: np.ndarray, max_len: int, d_model: int) -> None:
    if x.ndim != 3 or x.shape[2] != d_model or x.shape[1] > max_len:
        raise ValueError(f"{layer!r} expected input of shape (N, T <= {max_len}, {d_model}); "
                         f"got {x.shape}")


class PositionalEncoding(Layer):
    """out = x + PE[:T], the fixed sinusoidal table of :func:`sinusoidal_positions`.

    x (N, T, d_model) with T <= ``max_len``; nothing is learned (the table is a
    buffer); dx = dout.
    """

    def __init__(self, d_model: int, max_len: int = 512, dtype=np.float32) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model", "PositionalEncoding")
        self.max_len = check_int(max_len, "max_len", "PositionalEncoding")
        self.buffers = {"pe": sinusoidal_positions(max_len, d_model).astype(dtype)}

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_sequence(self, x, self.max_len, self.d_model)
        return x + self.buffers["pe"][: x.shape[1]]  # (N, T, D) + (T, D)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        return dout

    def __repr__(self) -> str:
        return f"PositionalEncoding({self.d_model}, max_len={self.max_len})"


class LearnedPositions(Layer):
    """out = x + P[:T], with P a learned (max_len, d_model) table (as in GPT and BERT).

    Backward: dP[t] = sum over the batch of dout[:, t] for t < T (0 for rows not
    used), dx = dout. Rows start small: normal with standard deviation 0.02.
    """

    def __init__(self, max_len: int, d_model: int, rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__()
        self.max_len = check_int(max_len, "max_len", "LearnedPositions")
        self.d_model = check_int(d_model, "d_model", "LearnedPositions")
        self.params = {"w": np.empty((max_len, d_model), dtype)}
        self.grads = {"w": np.zeros((max_len, d_model), dtype)}
        self.reset_parameters(as_rng(rng))

    def reset_parameters(self, rng: np.random.Generator) -> None:
        w = self.params["w"]
        w[...] = 0.02 * rng.standard_normal(w.shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_sequence(self, x, self.max_len, self.d_model)
        self.T = x.shape[1]
        return x + self.params["w"][: self.T]  # (N, T, D) + (T, D)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray:
        dw = self.grads["w"]
        dw[self.T:] = 0
        np.sum(dout, axis=0, out=dw[: self.T])  # (N, T, D) -> (T, D)
        return dout

    def __repr__(self) -> str:
        return f"LearnedPositions({self.max_len}, {self.d_model})"
