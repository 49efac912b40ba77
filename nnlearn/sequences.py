"""Training on token sequences: a toy task, a training loop and token accuracy.

``Sequential.fit`` scores one prediction per sample, (N, C) logits against (N,)
labels. A sequence model predicts a token at *every* position: logits
(N, T, V) against targets (N, T). Here the T predictions of a sample are
scored as N * T independent classifications (the mean cross-entropy over all
of them), which is how language models and sequence taggers are trained.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.losses import SoftmaxCrossEntropy
from nnlearn.validation import check_int

__all__ = ["fit_tokens", "reverse_digits", "token_accuracy"]


def reverse_digits(n_samples: int, T: int, rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
    """Random digit sequences and their reversals: x (N, T) ids in [0, 10), y = x[:, ::-1].

    Output position t must copy input position T - 1 - t: a task about *where*
    to look, which only a model that knows positions can solve.
    """
    N = check_int(n_samples, "n_samples", "reverse_digits")
    T = check_int(T, "T", "reverse_digits")
    x = as_rng(rng).integers(0, 10, size=(N, T))  # (N, T)
    return x, x[:, ::-1].copy()


def _scored(out: np.ndarray, y: np.ndarray, score_from: int) -> tuple[np.ndarray, np.ndarray]:
    """The logits and targets of the positions t >= score_from, as (M, V) and (M,)."""
    V = out.shape[-1]
    if out.shape[:2] != (y.shape[0], y.shape[1] + score_from) or out.ndim != 3:
        raise ValueError(f"expected logits of shape (N, {score_from} + T, V) for targets of shape "
                         f"(N, T) = {y.shape}; got logits of shape {out.shape}")
    return out[:, score_from:].reshape(-1, V), y.reshape(-1)  # (N*T, V), (N*T,)


def fit_tokens(model, x: np.ndarray, y: np.ndarray, optimizer, steps: int, batch_size: int = 32,
               score_from: int = 0, rng: RngLike = None) -> list[float]:
    """Train ``model`` for ``steps`` mini-batches on token sequences; returns the loss of each step.

    Each step draws ``batch_size`` random rows of (x, y), runs forward to logits
    (N, T_in, V), takes the mean cross-entropy over the positions t >= ``score_from``
    (all of them by default; a model that reads the whole input before
    answering scores only its last y.shape[1] positions), back-propagates and
    calls ``optimizer.step()``.

    Parameters
    ----------
    model : Sequential (or any layer) mapping x (N, T_in) to logits (N, T_in, V)
    x : ndarray (N, T_in) of token ids;  y : ndarray (N, T_in - score_from) of target ids
    optimizer : built on ``model.parameters()``
    """
    steps = check_int(steps, "steps", "fit_tokens")
    batch_size = check_int(batch_size, "batch_size", "fit_tokens")
    rng = as_rng(rng)
    loss = SoftmaxCrossEntropy()
    history = []
    model.train()
    for _ in range(steps):
        idx = rng.integers(0, len(x), size=batch_size)  # (B,) random rows
        out = model.forward(x[idx])  # (B, T_in, V)
        logits, targets = _scored(out, y[idx], score_from)  # (B*T, V), (B*T,)
        history.append(loss.forward(logits, targets))
        dlogits = loss.backward().reshape(len(idx), -1, out.shape[-1])  # (B, T, V)
        dout = np.zeros_like(out)
        dout[:, score_from:] = dlogits  # unscored positions get no gradient
        model.backward(dout, need_dx=False)
        optimizer.step()
    return history


def token_accuracy(model, x: np.ndarray, y: np.ndarray, score_from: int = 0,
                   batch_size: int = 500) -> float:
    """Fraction of target tokens predicted right (argmax of the logits), in evaluation mode."""
    model.eval()
    correct = 0
    try:
        for i in range(0, len(x), batch_size):
            logits, targets = _scored(model.forward(x[i:i + batch_size]), y[i:i + batch_size],
                                      score_from)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == targets))
    finally:
        model.train()
    return correct / y.size
