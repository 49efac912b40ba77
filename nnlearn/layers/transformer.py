r"""The Transformer block: attention and a feed-forward network, each in a residual branch.

Pre-norm form (as in GPT-2 and most Transformers trained today; the 2017
paper normalised *after* the residual sum, which trains less easily when deep):

.. math::
    h = x + \mathrm{MHA}(\mathrm{LN}_1(x)), \qquad
    \mathrm{out} = h + \mathrm{FFN}(\mathrm{LN}_2(h)), \qquad
    \mathrm{FFN}(z) = \max(0, z W_1 + b_1) W_2 + b_2

Each branch only adds a correction to what flows along the residual path, and
the gradient reaches the input through the identity however deep the stack.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.activations import ReLU
from nnlearn.layers.attention import MultiHeadAttention
from nnlearn.layers.base import Layer
from nnlearn.layers.dense import Dense
from nnlearn.layers.normalization import LayerNorm
from nnlearn.validation import check_int


class FeedForward(Layer):
    r"""The position-wise feed-forward network: out = max(0, x W_1 + b_1) W_2 + b_2.

    x (N, T, d_model) -> (N, T, d_ff) -> (N, T, d_model): the same two-layer MLP
    at every position (positions exchange nothing here; that is attention's job).
    Sub-layers: Dense(d_model, d_ff), ReLU, Dense(d_ff, d_model).
    """

    def __init__(self, d_model: int, d_ff: int, rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__()
        rng = as_rng(rng)
        self.sublayers = [Dense(d_model, d_ff, rng=rng, dtype=dtype), ReLU(),
                          Dense(d_ff, d_model, init="xavier_normal", rng=rng, dtype=dtype)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.sublayers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        first, relu, second = self.sublayers
        dout = relu.backward(second.backward(dout))
        return first.backward(dout, need_dx=need_dx)


class TransformerBlock(Layer):
    r"""Pre-norm Transformer block: x + MHA(LN(x)), then h + FFN(LN(h)).

    x (N, T, d_model) -> out (N, T, d_model). Its sub-layers, in order:
    ``norm1`` (LayerNorm), ``attn`` (MultiHeadAttention), ``norm2``,
    ``ffn`` (:class:`FeedForward`: Dense(d_model, d_ff), ReLU, Dense(d_ff, d_model)).

    Backward retraces the two residual sums: each one sends ``dout`` both
    straight down and through its branch, and adds the two.

    Parameters
    ----------
    d_model, num_heads, d_ff : sizes (d_model divisible by num_heads)
    causal : position t attends only to positions <= t (a decoder block)
    residual, layer_norm : switch the residual connections / layer norms off,
        to see what they are for (the lesson's ablation); both on by default
    mask (of forward) : boolean, True = may attend (see :mod:`nnlearn.layers.attention`)
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, causal: bool = False,
                 residual: bool = True, layer_norm: bool = True, rng: RngLike = None,
                 dtype=np.float32) -> None:
        super().__init__()
        d_ff = check_int(d_ff, "d_ff", type(self).__name__)
        rng = as_rng(rng)
        self.residual, self.layer_norm = bool(residual), bool(layer_norm)
        self.attn = MultiHeadAttention(d_model, num_heads, causal=causal, rng=rng, dtype=dtype)
        self.ffn = FeedForward(d_model, d_ff, rng=rng, dtype=dtype)
        self.norm1 = LayerNorm(d_model, dtype=dtype)
        self.norm2 = LayerNorm(d_model, dtype=dtype)
        norms = [self.norm1, self.norm2] if self.layer_norm else [None, None]
        self.sublayers = [layer for layer in (norms[0], self.attn, norms[1], self.ffn) if layer]
        self.d_model, self.num_heads, self.d_ff = d_model, num_heads, d_ff

    def forward(self, x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        a = self.norm1.forward(x) if self.layer_norm else x  # (N, T, D)
        h = self.attn.forward(a, mask)  # (N, T, D)
        if self.residual:
            h += x
        b = self.norm2.forward(h) if self.layer_norm else h
        out = self.ffn.forward(b)  # (N, T, D)
        if self.residual:
            out += h
        return out

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        db = self.ffn.backward(dout)
        dh = self.norm2.backward(db) if self.layer_norm else db
        if self.residual:
            dh += dout  # h -> out directly and through the FFN branch
        da = self.attn.backward(dh, need_dx=need_dx or self.layer_norm)
        if self.layer_norm:
            da = self.norm1.backward(da, need_dx=need_dx)
        if not need_dx:
            return None
        if self.residual:
            da += dh  # x -> h directly and through the attention branch
        return da

    def torch_state(self) -> dict[str, np.ndarray]:
        """The parameters under the names and layout of ``torch.nn.TransformerEncoderLayer``
        (``norm_first=True``, ``batch_first=True``): load with ``load_state_dict``."""
        first, _, second = self.ffn.sublayers
        state = {f"self_attn.{key}": value for key, value in self.attn.torch_state().items()}
        state.update({"linear1.weight": first.params["w"].T.copy(),
                      "linear1.bias": first.params["b"].copy(),
                      "linear2.weight": second.params["w"].T.copy(),
                      "linear2.bias": second.params["b"].copy()})
        for name, norm in (("norm1", self.norm1), ("norm2", self.norm2)):
            state[f"{name}.weight"] = norm.params["gamma"].copy()
            state[f"{name}.bias"] = norm.params["beta"].copy()
        return state

    def __repr__(self) -> str:
        off = "".join(f", {name}=False" for name in ("residual", "layer_norm")
                      if not getattr(self, name))
        causal = ", causal=True" if self.attn.causal else ""
        return (f"{type(self).__name__}(d_model={self.d_model}, num_heads={self.num_heads}, "
                f"d_ff={self.d_ff}{causal}{off})")


class EncoderBlock(TransformerBlock):
    """A :class:`TransformerBlock` in which every position sees every other (BERT-style)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, residual: bool = True,
                 layer_norm: bool = True, rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__(d_model, num_heads, d_ff, causal=False, residual=residual,
                         layer_norm=layer_norm, rng=rng, dtype=dtype)


class DecoderBlock(TransformerBlock):
    """A causal :class:`TransformerBlock`: position t sees positions <= t only (GPT-style).

    Stacked under a language-model head, every position predicts the next token
    without seeing it, so one forward pass trains on all T predictions at once.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, residual: bool = True,
                 layer_norm: bool = True, rng: RngLike = None, dtype=np.float32) -> None:
        super().__init__(d_model, num_heads, d_ff, causal=True, residual=residual,
                         layer_norm=layer_norm, rng=rng, dtype=dtype)
