r"""Attention: every position looks up the positions it needs, by content.

Attention is a soft dictionary lookup. Each query ``q_i`` is compared with
every key ``k_j`` (a dot product: a score), the scores become weights with a
softmax, and the answer is the weighted average of the values ``v_j``:

.. math::
    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V

Masks
-----
A mask is a **boolean** array, broadcastable to the scores' shape
(..., T_q, T_k), with **True = may attend** (query i may look at key j) and
False = blocked. This is the polarity of
``torch.nn.functional.scaled_dot_product_attention``; note that
``torch.nn.MultiheadAttention``'s ``attn_mask`` and ``key_padding_mask`` use the
opposite one (True = blocked). :func:`causal_mask` and :func:`padding_mask`
build the two usual masks. A query whose keys are all blocked gets weights 0
and output 0 (not NaN).
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.base import Layer
from nnlearn.validation import check_int

__all__ = [
    "MultiHeadAttention",
    "causal_mask",
    "masked_softmax",
    "merge_heads",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_backward",
    "split_heads",
]


# -- masks --------------------------------------------------------------------------
def causal_mask(T: int) -> np.ndarray:
    """(T, T) boolean mask, True on and below the diagonal: position i sees positions <= i."""
    T = check_int(T, "T", "causal_mask")
    return np.tri(T, dtype=bool)  # (T, T) lower triangle


def padding_mask(lengths, T: int) -> np.ndarray:
    """(N, 1, T) boolean mask, True for the first ``lengths[n]`` keys of sequence n.

    The middle axis of size 1 broadcasts over the queries: every query of
    sequence n ignores its padding keys. ``lengths`` : ints in [0, T], shape (N,).
    """
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or lengths.dtype.kind not in "iu" or np.any(lengths < 0) \
            or np.any(lengths > T):
        raise ValueError(f"padding_mask expected lengths: a 1-D array of ints in [0, {T}]; "
                         f"got {lengths!r}")
    return (np.arange(T) < lengths[:, None])[:, None, :]  # (N, 1, T)


def _check_mask(mask, scores_shape: tuple[int, ...], owner: str) -> np.ndarray:
    """``mask`` as a boolean array broadcastable to ``scores_shape``, or a ValueError."""
    if not isinstance(mask, np.ndarray) or mask.dtype != bool:
        got = f"dtype {mask.dtype}" if isinstance(mask, np.ndarray) else type(mask).__name__
        raise ValueError(f"The 'mask' of {owner} must be a boolean ndarray (True = may attend); "
                         f"got {got}")
    fits = mask.ndim <= len(scores_shape) and all(
        m in (1, s) for m, s in zip(mask.shape[::-1], scores_shape[::-1], strict=False))
    if not fits:
        raise ValueError(f"The 'mask' of {owner} must broadcast to the scores' shape "
                         f"{scores_shape} (..., T_q, T_k); got shape {mask.shape}")
    return mask


# -- softmax with a mask ---------------------------------------------------------------
def masked_softmax(scores: np.ndarray, mask: np.ndarray | None = None,
                   inplace: bool = False) -> np.ndarray:
    r"""Softmax over the last axis, where blocked entries (``mask`` False) get weight 0.

    .. math::
        p_{ij} = \frac{m_{ij}\, e^{s_{ij} - c_i}}{\sum_k m_{ik}\, e^{s_{ik} - c_i}},
        \qquad c_i = \max_{k:\ m_{ik}} s_{ik}

    Blocked scores are set to :math:`-\infty` (``exp(-inf) = 0``, without a
    warning) and every row is shifted by its largest *allowed* score, so no
    ``exp`` overflows. A row with nothing allowed has no finite maximum: it is
    shifted by 0 instead and, its sum being 0, left at 0 rather than 0/0 = NaN.

    Parameters
    ----------
    scores : float ndarray of shape (..., T_k)
    mask : boolean ndarray broadcastable to ``scores`` (True = keep), or None
    inplace : overwrite ``scores`` with the result (saves a (..., T_q, T_k) array)
    """
    p = scores if inplace else scores.copy()
    if mask is not None:
        np.copyto(p, -np.inf, where=~mask)  # blocked -> -inf
    row_max = p.max(axis=-1, keepdims=True)  # (..., 1); -inf for a fully blocked row
    if mask is not None:
        row_max[np.isneginf(row_max)] = 0  # fully blocked row: nothing to shift
    p -= row_max  # (..., T_k), every allowed entry <= 0
    np.exp(p, out=p)
    total = p.sum(axis=-1, keepdims=True)  # (..., 1), >= 1 unless the row is fully blocked
    if mask is not None:
        total[total == 0] = 1  # 0 / 1 = 0 for a fully blocked row
    p /= total
    return p


# -- scaled dot-product attention ------------------------------------------------------
def _check_qkv(q, k, v) -> None:
    owner = "scaled_dot_product_attention"
    for name, a in (("q", q), ("k", k), ("v", v)):
        if not isinstance(a, np.ndarray) or a.ndim not in (3, 4) or a.dtype.kind != "f":
            got = f"{a.dtype} array of shape {a.shape}" if isinstance(a, np.ndarray) \
                else type(a).__name__
            raise ValueError(f"{owner} expected {name}: a float array of shape (N, T, d) or "
                             f"(N, h, T, d); got {got}")
    if not (q.ndim == k.ndim == v.ndim) or q.shape[:-2] != k.shape[:-2] \
            or k.shape[:-1] != v.shape[:-1] or q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{owner} expected q (..., T_q, d), k (..., T_k, d) and v (..., T_k, d_v) "
                         f"with the same leading axes; got q {q.shape}, k {k.shape}, v {v.shape}")


def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                                 mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""out = softmax(q k^T / sqrt(d), masked) v, for one head (N, T, d) or many (N, h, T, d).

    .. math::
        S = \frac{Q K^\top}{\sqrt d}, \qquad P = \mathrm{softmax}_{\text{mask}}(S), \qquad
        \mathrm{out} = P V

    Dividing by :math:`\sqrt d` keeps the scores' variance near 1 whatever the
    head size: for q, k with independent unit-variance entries, :math:`q \cdot k`
    has variance d, and a softmax of scores that large is nearly one-hot, with
    gradients near 0.

    Parameters
    ----------
    q : ndarray of shape (N, T_q, d) or (N, h, T_q, d), the queries
    k : ndarray of shape (N, T_k, d) or (N, h, T_k, d), the keys
    v : ndarray of shape (N, T_k, d_v) or (N, h, T_k, d_v), the values
    mask : boolean ndarray broadcastable to (..., T_q, T_k), True = may attend;
        e.g. :func:`causal_mask` (T, T) or :func:`padding_mask` (N, 1, T)

    Returns
    -------
    out : ndarray of shape (..., T_q, d_v)
    weights : ndarray of shape (..., T_q, T_k), the attention weights P (rows sum
        to 1, or are all 0 where every key is blocked); backward needs them
    """
    _check_qkv(q, k, v)
    if mask is not None:
        mask = _check_mask(mask, q.shape[:-1] + k.shape[-2:-1], "scaled_dot_product_attention")
    d = q.shape[-1]
    scores = q @ k.swapaxes(-1, -2)  # (..., T_q, d) @ (..., d, T_k) -> (..., T_q, T_k)
    scores *= 1.0 / np.sqrt(d)
    weights = masked_softmax(scores, mask, inplace=True)  # (..., T_q, T_k)
    out = weights @ v  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
    return out, weights


def scaled_dot_product_attention_backward(
    dout: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray, weights: np.ndarray,
    out: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of :func:`scaled_dot_product_attention` with respect to q, k and v.

    With P the weights and :math:`s = 1/\sqrt d`, going back through
    out = P V, the softmax and S = s Q K^T:

    .. math::
        dV = P^\top dout, \quad dP = dout\, V^\top, \quad
        dS = P \odot \left(dP - \textstyle\sum_j (dP \odot P)_{:, j}\right), \quad
        dQ = s\, dS\, K, \quad dK = s\, dS^\top Q

    Blocked entries have P = 0, hence dS = 0: the mask needs no special case.

    Parameters
    ----------
    dout : ndarray of shape (..., T_q, d_v), dL/d(out)
    q, k, v, weights : the inputs and the weights returned by the forward pass
    out : optional (dq, dk, dv) arrays (or views) to write the gradients into

    Returns
    -------
    dq (..., T_q, d), dk (..., T_k, d), dv (..., T_k, d_v)
    """
    dq, dk, dv = out if out is not None else (None, None, None)
    dv = np.matmul(weights.swapaxes(-1, -2), dout, out=dv)  # (.., T_k, T_q) @ (.., T_q, d_v)
    ds = dout @ v.swapaxes(-1, -2)  # dP: (..., T_q, d_v) @ (..., d_v, T_k) -> (..., T_q, T_k)
    row = np.einsum("...ij,...ij->...i", ds, weights)[..., None]  # (..., T_q, 1) sum_j dP P
    ds -= row
    ds *= weights  # dS = P * (dP - row), in place
    ds *= 1.0 / np.sqrt(q.shape[-1])  # through the scaling
    dq = np.matmul(ds, k, out=dq)  # (..., T_q, T_k) @ (..., T_k, d) -> (..., T_q, d)
    dk = np.matmul(ds.swapaxes(-1, -2), q, out=dk)  # (..., T_k, T_q) @ (..., T_q, d)
    return dq, dk, dv


# -- multi-head attention ----------------------------------------------------------------
def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(N, T, D) -> (N, h, T, d) with d = D / h: head i gets features i*d .. (i+1)*d - 1.

    A view when possible (reshape, then move the head axis before the time axis).
    """
    N, T, D = x.shape
    if D % num_heads:
        raise ValueError(f"split_heads: D={D} is not divisible by num_heads={num_heads}")
    return x.reshape(N, T, num_heads, D // num_heads).transpose(0, 2, 1, 3)  # (N, h, T, d)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(N, h, T, d) -> (N, T, h * d): the heads' outputs side by side again (a copy)."""
    N, h, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, h * d)  # (N, T, h, d) -> (N, T, D)


class MultiHeadAttention(Layer):
    r"""h attention heads side by side, each on its own d = d_model / h slice.

    Self-attention (``forward(x)``): queries, keys and values are all
    projections of x, computed by one fused matrix product:

    .. math::
        [Q\ K\ V] = x W_{qkv} + b_{qkv}, \quad
        \mathrm{head}_i = \mathrm{Attention}(Q_i, K_i, V_i), \quad
        \mathrm{out} = [\mathrm{head}_1 \dots \mathrm{head}_h]\, W_o + b_o

    Cross-attention (``forward(x, context=c)``): queries from x, keys and
    values from c (e.g. a decoder attending to an encoder's output), with the
    same weights: the first d_model columns of :math:`W_{qkv}` project x, the
    other 2 d_model project c. After ``backward``, ``dcontext`` holds dL/dc.

    Shapes: x (N, T, d_model); context (N, T_k, d_model); W_qkv (d_model,
    3 d_model) (= PyTorch's ``in_proj_weight.T``), b_qkv (3 d_model,), W_o
    (d_model, d_model) (= ``out_proj.weight.T``), b_o (d_model,). After a
    forward, ``weights`` holds the attention weights (N, h, T, T_k), for
    heatmaps.

    Parameters
    ----------
    d_model : int, divisible by ``num_heads``
    num_heads : int
    mask (of forward) : boolean, True = may attend; (T, T_k), (N, T|1, T_k) or
        (N, h|1, T|1, T_k), e.g. :func:`causal_mask` or :func:`padding_mask`
    causal : bool; if True every forward also applies :func:`causal_mask`
    """

    def __init__(self, d_model: int, num_heads: int, causal: bool = False,
                 rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model", "MultiHeadAttention")
        self.num_heads = check_int(num_heads, "num_heads", "MultiHeadAttention")
        if d_model % num_heads:
            raise ValueError(f"The 'd_model' parameter of MultiHeadAttention must be divisible by "
                             f"num_heads={num_heads}. Got d_model={d_model} "
                             f"({d_model} / {num_heads} = {d_model / num_heads:.3g}).")
        self.causal = bool(causal)
        D = d_model
        self.params = {"w_qkv": np.empty((D, 3 * D), dtype), "b_qkv": np.zeros(3 * D, dtype),
                       "w_o": np.empty((D, D), dtype), "b_o": np.zeros(D, dtype)}
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self.reset_parameters(as_rng(rng))

    def reset_parameters(self, rng: np.random.Generator) -> None:
        """Xavier-uniform weights (as PyTorch's MultiheadAttention), zero biases."""
        D = self.d_model
        for key, fan_out in (("w_qkv", D), ("w_o", D)):  # W_qkv: three (D, D) maps side by side
            w = self.params[key]
            limit = np.sqrt(6.0 / (D + fan_out))
            w[...] = rng.uniform(-limit, limit, w.shape)
        self.params["b_qkv"][...] = 0
        self.params["b_o"][...] = 0

    def _check(self, x: np.ndarray, name: str) -> np.ndarray:
        if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[-1] != self.d_model:
            got = x.shape if isinstance(x, np.ndarray) else type(x).__name__
            raise ValueError(f"{self!r} expected {name} of shape (N, T, d_model={self.d_model}); "
                             f"got {got}")
        return x.astype(self.params["w_qkv"].dtype, copy=False)

    def _mask(self, mask, N: int, T: int, T_k: int) -> np.ndarray | None:
        """The forward's mask, with a head axis, and the causal mask, as one (.., T, T_k) array."""
        if mask is not None:
            if isinstance(mask, np.ndarray) and mask.ndim == 3:
                mask = mask[:, None]  # (N, T|1, T_k) -> (N, 1, T|1, T_k): every head alike
            mask = _check_mask(mask, (N, self.num_heads, T, T_k), repr(self))
        if self.causal:
            if T != T_k:
                raise ValueError(f"{self!r} is causal: it needs as many keys as queries; "
                                 f"got T={T} queries and T_k={T_k} keys")
            mask = causal_mask(T) if mask is None else mask & causal_mask(T)
        return mask

    def forward(self, x: np.ndarray, mask: np.ndarray | None = None,
                context: np.ndarray | None = None) -> np.ndarray:
        x = self._check(x, "x")
        N, T, D = x.shape
        h, d = self.num_heads, D // self.num_heads
        w, b = self.params["w_qkv"], self.params["b_qkv"]
        self.x = x.reshape(N * T, D)  # (N*T, D)
        if context is None:  # self-attention: one (N*T, D) @ (D, 3D) product
            self.context = None
            T_k = T
            qkv = (self.x @ w + b).reshape(N, T, 3, h, d)  # (N, T, 3, h, d)
            q, k, v = qkv.transpose(2, 0, 3, 1, 4)  # 3 views (N, h, T, d), no copy
        else:  # cross-attention: queries from x, keys and values from the context
            c = self._check(context, "context")
            T_k = c.shape[1]
            self.context = c.reshape(N * T_k, D)  # (N*T_k, D)
            q = (self.x @ w[:, :D] + b[:D]).reshape(N, T, h, d).transpose(0, 2, 1, 3)
            kv = (self.context @ w[:, D:] + b[D:]).reshape(N, T_k, 2, h, d)  # (N, T_k, 2, h, d)
            k, v = kv.transpose(2, 0, 3, 1, 4)  # 2 views (N, h, T_k, d)
        self.mask = self._mask(mask, N, T, T_k)
        heads, self.weights = scaled_dot_product_attention(q, k, v, self.mask)  # (N, h, T, d)
        self.q, self.k, self.v = q, k, v
        merged = np.empty((N, T, h, d), x.dtype)  # heads side by side: (N, T, h, d) = (N, T, D)
        merged.transpose(0, 2, 1, 3)[...] = heads  # (N, h, T, d) written as (N, T, h, d)
        self.merged = merged.reshape(N * T, D)  # (N*T, D), no copy
        out = self.merged @ self.params["w_o"]  # (N*T, D) @ (D, D)
        out += self.params["b_o"]
        return out.reshape(N, T, D)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        N, h, T, d = self.q.shape
        D, T_k = self.d_model, self.k.shape[2]
        dout = dout.reshape(N * T, D)  # (N*T, D)
        np.matmul(self.merged.T, dout, out=self.grads["w_o"])  # (D, N*T) @ (N*T, D)
        np.sum(dout, axis=0, out=self.grads["b_o"])
        dmerged = dout @ self.params["w_o"].T  # (N*T, D)
        dheads = dmerged.reshape(N, T, h, d).transpose(0, 2, 1, 3)  # view (N, h, T, d)
        w, dw, db = self.params["w_qkv"], self.grads["w_qkv"], self.grads["b_qkv"]
        if self.context is None:
            dqkv = np.empty((N, T, 3, h, d), dout.dtype)  # filled through the views below
            scaled_dot_product_attention_backward(dheads, self.q, self.k, self.v, self.weights,
                                                  out=tuple(dqkv.transpose(2, 0, 3, 1, 4)))
            dqkv = dqkv.reshape(N * T, 3 * D)  # (N*T, 3D)
            np.matmul(self.x.T, dqkv, out=dw)  # (D, N*T) @ (N*T, 3D)
            np.sum(dqkv, axis=0, out=db)
            return (dqkv @ w.T).reshape(N, T, D) if need_dx else None  # (N*T, 3D) @ (3D, D)
        dq = np.empty((N, T, h, d), dout.dtype)
        dkv = np.empty((N, T_k, 2, h, d), dout.dtype)
        dk, dv = dkv.transpose(2, 0, 3, 1, 4)
        scaled_dot_product_attention_backward(dheads, self.q, self.k, self.v, self.weights,
                                              out=(dq.transpose(0, 2, 1, 3), dk, dv))
        dq, dkv = dq.reshape(N * T, D), dkv.reshape(N * T_k, 2 * D)
        np.matmul(self.x.T, dq, out=dw[:, :D])  # (D, N*T) @ (N*T, D)
        np.matmul(self.context.T, dkv, out=dw[:, D:])  # (D, N*T_k) @ (N*T_k, 2D)
        np.sum(dq, axis=0, out=db[:D])
        np.sum(dkv, axis=0, out=db[D:])
        self.dcontext = (dkv @ w[:, D:].T).reshape(N, T_k, D)  # (N*T_k, 2D) @ (2D, D)
        return (dq @ w[:, :D].T).reshape(N, T, D) if need_dx else None

    def torch_state(self) -> dict[str, np.ndarray]:
        """The parameters under ``torch.nn.MultiheadAttention``'s names and layout (copies)."""
        p = self.params
        return {"in_proj_weight": p["w_qkv"].T.copy(), "in_proj_bias": p["b_qkv"].copy(),
                "out_proj.weight": p["w_o"].T.copy(), "out_proj.bias": p["b_o"].copy()}

    def __repr__(self) -> str:
        causal = ", causal=True" if self.causal else ""
        return f"MultiHeadAttention(d_model={self.d_model}, num_heads={self.num_heads}{causal})"
