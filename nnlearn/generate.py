r"""Sampling from a language model, with a temperature.

A language model outputs logits :math:`z` over the V tokens of its vocabulary for
the next token. Dividing them by a temperature :math:`\tau` before the softmax,

.. math::  p_k = \frac{e^{z_k / \tau}}{\sum_j e^{z_j / \tau}},

sharpens (:math:`\tau < 1`) or flattens (:math:`\tau > 1`) the distribution:
:math:`\tau \to 0` always picks the most likely token (greedy decoding, often
repetitive), :math:`\tau = 1` samples from the model's own distribution,
large :math:`\tau` approaches uniform noise.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.layers.recurrent import Recurrent
from nnlearn.validation import check_float, check_int

__all__ = ["softmax_with_temperature", "sample_token", "generate"]


def softmax_with_temperature(logits, temperature: float = 1.0) -> np.ndarray:
    """Probabilities softmax(logits / temperature) along the last axis.

    ``temperature=0`` puts all the mass on the largest logit (the first, if tied).
    """
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        p = np.zeros_like(z)
        np.put_along_axis(p, z.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return p
    temperature = check_float(temperature, "temperature", "softmax_with_temperature", ">= 0")
    z = z / temperature
    z -= z.max(axis=-1, keepdims=True)  # the largest exponent is 0: no overflow
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sample_token(logits, temperature: float = 1.0, rng: RngLike = None) -> np.ndarray:
    """Draw one token id per row of ``logits`` (V,) or (N, V) from softmax(logits / temperature).

    Inverse-CDF sampling, vectorised: one uniform number u per row and the first
    id whose cumulative probability exceeds u.
    """
    p = softmax_with_temperature(logits, temperature)  # (N, V)
    cdf = np.cumsum(p, axis=-1)
    u = as_rng(rng).random(p.shape[:-1] + (1,)) * cdf[..., -1:]  # (N, 1), scaled against rounding
    return (cdf <= u).sum(axis=-1)  # (N,): the number of ids below u is the drawn id


def _step(model, x: np.ndarray, states: dict) -> np.ndarray:
    """Run ``x`` (N, T) through the model's layers, carrying every recurrent layer's state."""
    for index, layer in enumerate(model.layers):
        if isinstance(layer, Recurrent):
            x = layer.forward(x, state=states.get(index))
            states[index] = layer.state_
        else:
            x = layer.forward(x)
    return x


def generate(model, tokenizer, prompt: str, length: int = 200, temperature: float = 1.0,
             rng: RngLike = None) -> str:
    """Continue ``prompt`` by ``length`` sampled characters.

    ``model`` is a Sequential mapping token ids (N, T) to logits (N, T, V), e.g.
    ``[Embedding, LSTM, Dense]``. The prompt is read in one pass; then each
    sampled token is fed back in, one step at a time, with the recurrent state
    carried over (so each new token costs one step, not a re-read of the text).
    """
    length = check_int(length, "length", "generate", low=0)
    if not prompt:
        raise ValueError("generate expected a non-empty prompt to start from")
    rng = as_rng(rng)
    mode = model.layers[0].training
    model.eval()
    try:
        states: dict = {}
        logits = _step(model, tokenizer.encode(prompt)[None, :], states)  # (1, T, V)
        out = []
        for _ in range(length):
            token = sample_token(logits[:, -1], temperature, rng)  # (1,)
            out.append(int(token[0]))
            logits = _step(model, token[:, None], states)  # (1, 1, V)
    finally:
        model.train(mode)
    return prompt + tokenizer.decode(out)
