r"""Embedding: a learned vector for every token id (a lookup table)."""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.base import Layer
from nnlearn.validation import check_int

__all__ = ["Embedding", "check_token_ids"]


def check_token_ids(x, num_embeddings: int, owner: str) -> np.ndarray:
    """Token ids as an integer index array, or ValueError naming what is wrong.

    Integer arrays pass; float arrays pass only if every entry is a whole number
    (``Sequential.fit`` hands layers float32 arrays). Every id must lie in
    [0, num_embeddings).
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x) | (x != np.round(x))
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"{owner} expected integer token ids; got {float(x[i]):g} at index {i}")
    elif x.dtype.kind not in "iu":
        raise ValueError(f"{owner} expected integer token ids; got an array of dtype {x.dtype}")
    if x.size and (x.min() < 0 or x.max() >= num_embeddings):
        bad = (x < 0) | (x >= num_embeddings)
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise ValueError(f"{owner} expected token ids in [0, {num_embeddings}); "
                         f"got {x[i]:g} at index {i}")
    return x.astype(np.intp, copy=False)


class Embedding(Layer):
    r"""Maps token ids to learned vectors: ``out[n, t] = W[x[n, t]]``.

    Multiplying a one-hot row by W picks out one row of W; an embedding does the
    same by indexing, without building the (N, T, V) one-hot array.

    Shapes: x (N, T) (or any shape) of integer ids in [0, V), W (V, E),
    out (N, T, E). Backward adds each dout[n, t] into row x[n, t] of dW (a token
    that occurs twice gets both contributions). There is no gradient with respect
    to the ids, so ``backward`` returns None.

    Same as ``torch.nn.Embedding(V, E)`` (W = its ``weight``, initialised N(0, 1)).

    Parameters
    ----------
    num_embeddings : int
        V, the vocabulary size.
    dim : int
        E, the length of each vector.
    rng, dtype : as for :class:`~nnlearn.layers.dense.Dense`.
    """

    def __init__(self, num_embeddings: int, dim: int, rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__()
        self.num_embeddings = check_int(num_embeddings, "num_embeddings", "Embedding")
        self.dim = check_int(dim, "dim", "Embedding")
        self.params = {"w": np.empty((self.num_embeddings, self.dim), dtype=dtype)}
        self.grads = {"w": np.zeros_like(self.params["w"])}
        self.reset_parameters(as_rng(rng))

    def reset_parameters(self, rng: np.random.Generator) -> None:
        w = self.params["w"]
        w[...] = rng.standard_normal(w.shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.ids = check_token_ids(x, self.num_embeddings, repr(self))  # (N, T)
        return self.params["w"][self.ids]  # (N, T) -> (N, T, E)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> None:
        dw = self.grads["w"]
        dw[...] = 0
        # (N*T, E) rows added into (V, E); np.add.at adds repeated ids correctly, dw[ids] += would not
        np.add.at(dw, self.ids.reshape(-1), dout.reshape(-1, self.dim))
        return None

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.dim})"
