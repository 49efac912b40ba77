"""Exercises of lesson 07_attention: masked softmax, attention forward and backward, heads,
positions and the causal mask.

The references call nnlearn (``nnlearn.layers.attention``, ``nnlearn.layers.positional``), so each
exercise is checked against the library's own implementation.
"""

from __future__ import annotations

import numpy as np

from nnlearn.exercises.registry import Exercise, register
from nnlearn.layers.attention import (
    causal_mask,
    masked_softmax,
    merge_heads,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
    split_heads,
)
from nnlearn.layers.positional import sinusoidal_positions


def _random_mask(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random boolean mask with at least the first key allowed in every row."""
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True
    return mask


# -- 7.1 masked_softmax ----------------------------------------------------------------------
def _softmax_cases(rng: np.random.Generator) -> list[dict]:
    T = int(rng.integers(3, 7))
    fully = _random_mask(rng, (4, T))
    fully[2] = False  # a query that may attend to nothing
    big = float(rng.integers(500, 1000))
    return [
        {"scores": rng.standard_normal((3, T)), "mask": np.ones((3, T), bool)},  # no masking
        {"scores": rng.standard_normal((2, 4, T)), "mask": _random_mask(rng, (2, 4, T))},
        {"scores": rng.standard_normal((4, T)), "mask": fully},  # a fully masked row -> zeros
        {"scores": big * rng.standard_normal((3, T)), "mask": _random_mask(rng, (3, T))},  # huge
        {"scores": rng.standard_normal((2, T, T)), "mask": causal_mask(T)},  # broadcast (T, T)
    ]


def _softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return masked_softmax(scores, mask)


# -- 7.2 attention_forward / 7.3 attention_backward ------------------------------------------
def _qkv(rng: np.random.Generator, lead: tuple[int, ...], T_q: int, T_k: int, d: int) -> dict:
    return {"q": rng.standard_normal(lead + (T_q, d)), "k": rng.standard_normal(lead + (T_k, d)),
            "v": rng.standard_normal(lead + (T_k, d))}


def _forward_cases(rng: np.random.Generator) -> list[dict]:
    T = int(rng.integers(3, 7))
    return [
        {**_qkv(rng, (2,), T, T, 4), "mask": np.ones((T, T), bool)},  # (N, T, d), no mask
        {**_qkv(rng, (2,), T, T + 2, 3), "mask": _random_mask(rng, (2, T, T + 2))},  # T_q != T_k
        {**_qkv(rng, (2, 3), T, T, 4), "mask": causal_mask(T)},  # (N, h, T, d), causal
        {**_qkv(rng, (1, 2), 4, 4, 2),
         "mask": np.array([True, False, True, True])[:, None] & np.ones((4, 4), bool)},  # empty row
        {**_qkv(rng, (1,), 1, 1, 1), "mask": np.ones((1, 1), bool)},  # T = d = 1
    ]


def _forward(q, k, v, mask) -> tuple:
    return scaled_dot_product_attention(q, k, v, mask)


def _backward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for case in _forward_cases(rng):
        _, weights = scaled_dot_product_attention(case["q"], case["k"], case["v"], case["mask"])
        cases.append({"dout": rng.standard_normal(case["q"].shape[:-1] + case["v"].shape[-1:]),
                      "q": case["q"], "k": case["k"], "v": case["v"], "weights": weights})
    return cases


def _backward(dout, q, k, v, weights) -> tuple:
    return scaled_dot_product_attention_backward(dout, q, k, v, weights)


# -- 7.4 split_heads / 7.5 merge_heads --------------------------------------------------------
def _split_cases(rng: np.random.Generator) -> list[dict]:
    N, T = int(rng.integers(1, 4)), int(rng.integers(2, 6))
    return [
        {"x": rng.standard_normal((N, T, 6)), "num_heads": 2},
        {"x": rng.standard_normal((N, T, 6)), "num_heads": 3},
        {"x": rng.standard_normal((2, T, 8)), "num_heads": 1},  # one head: just a new axis
        {"x": rng.standard_normal((2, T, 8)), "num_heads": 8},  # d = 1
    ]


def _split(x: np.ndarray, num_heads: int) -> np.ndarray:
    return split_heads(x, num_heads)


def _merge_cases(rng: np.random.Generator) -> list[dict]:
    T = int(rng.integers(2, 6))
    return [{"x": rng.standard_normal(shape)} for shape in
            [(2, 2, T, 3), (1, 3, T, 2), (2, 1, T, 4), (3, 4, 1, 1)]]


def _merge(x: np.ndarray) -> np.ndarray:
    return merge_heads(x)


# -- 7.6 sinusoidal_positions / 7.7 causal_mask ---------------------------------------------
def _positions_cases(rng: np.random.Generator) -> list[dict]:
    return [{"T": int(rng.integers(3, 20)), "d_model": 2 * int(rng.integers(1, 9))},
            {"T": 1, "d_model": 2}, {"T": 50, "d_model": 16}, {"T": 7, "d_model": 64}]


def _positions(T: int, d_model: int) -> np.ndarray:
    return sinusoidal_positions(T, d_model)


def _causal_cases(rng: np.random.Generator) -> list[dict]:
    return [{"T": 1}, {"T": 2}, {"T": int(rng.integers(3, 12))}]


def _causal(T: int) -> np.ndarray:
    return causal_mask(T)


register(
    Exercise(
        id="attention.masked_softmax",
        title="softmax over the last axis where mask is False gets weight 0 (a fully masked row: zeros)",
        make_cases=_softmax_cases,
        reference=_softmax,
        hint="Set blocked scores to -inf (np.where), subtract each row's largest allowed score "
        "(0 for a row with none), exponentiate, and divide by the row sum where it is > 0. "
        "exp(-inf) = 0 without a warning; -inf - (-inf) is NaN.",
    ),
    Exercise(
        id="attention.attention_forward",
        title="return out = softmax(q k^T / sqrt(d), masked) v and the weights",
        make_cases=_forward_cases,
        reference=_forward,
        output_names=("out", "weights"),
        hint="Transpose only the last two axes of k (swapaxes(-1, -2)), so that (N, T, d) and "
        "(N, h, T, d) both work; reuse your masked_softmax.",
    ),
    Exercise(
        id="attention.attention_backward",
        title="return dq, dk and dv of the attention forward pass",
        make_cases=_backward_cases,
        reference=_backward,
        output_names=("dq", "dk", "dv"),
        hint="dv = P^T dout; dP = dout v^T; the softmax backward dS = P * (dP - sum(dP * P) over "
        "the last axis); then dq and dk through S = q k^T / sqrt(d): do not forget the 1/sqrt(d).",
    ),
    Exercise(
        id="attention.split_heads",
        title="(N, T, D) -> (N, h, T, D / h)",
        make_cases=_split_cases,
        reference=_split,
        hint="First reshape the feature axis into (h, d), then move the head axis in front of the "
        "time axis. Reshaping straight to (N, h, T, d) mixes positions up.",
    ),
    Exercise(
        id="attention.merge_heads",
        title="(N, h, T, d) -> (N, T, h * d)",
        make_cases=_merge_cases,
        reference=_merge,
        hint="The inverse of split_heads: move the head axis back next to d, then reshape.",
    ),
    Exercise(
        id="attention.sinusoidal_positions",
        title="the (T, d_model) sinusoidal positional encoding table",
        make_cases=_positions_cases,
        reference=_positions,
        hint="Column 2i is sin(t / 10000^(2i / d_model)), column 2i + 1 the cos of the same; "
        "build the (T, 1) positions and (d_model / 2,) frequencies and let broadcasting do the rest.",
    ),
    Exercise(
        id="attention.causal_mask",
        title="the (T, T) boolean mask: True where key j <= query i",
        make_cases=_causal_cases,
        reference=_causal,
        hint="The lower triangle, diagonal included, as booleans (np.tril of ones, or a comparison "
        "of two aranges).",
    ),
)
