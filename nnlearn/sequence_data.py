"""Small synthetic sequence tasks for lesson 06 (batch-first arrays, seeded).

* :func:`sine_windows` — forecasting: T noisy samples of a sine wave, predict the next one.
* :func:`recall_task` — memory: a sequence of random symbols, recall the first one at the end.
"""

from __future__ import annotations

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.validation import check_float, check_int

__all__ = ["sine_windows", "recall_task"]


def sine_windows(n_samples: int, T: int = 40, noise: float = 0.1, rng: RngLike = None,
                 dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    r"""Windows of a noisy sine wave and the value that follows each.

    Each window has its own random phase and a period drawn from [15, 30) steps:

    .. math::  s_k = \sin(2\pi k / P + \varphi) + \epsilon_k, \qquad \epsilon_k \sim N(0, \text{noise}^2)

    Returns x (N, T, 1) = s_0 .. s_{T-1} and y (N, 1) = the noise-free
    :math:`\sin(2\pi T / P + \varphi)`, so a perfect forecaster scores MSE 0
    (the noise is in the inputs only).
    """
    N = check_int(n_samples, "n_samples", "sine_windows")
    T = check_int(T, "T", "sine_windows")
    noise = check_float(noise, "noise", "sine_windows", ">= 0")
    rng = as_rng(rng)
    period = rng.uniform(15, 30, size=(N, 1))  # (N, 1)
    phase = rng.uniform(0, 2 * np.pi, size=(N, 1))
    k = np.arange(T + 1)  # (T + 1,)
    clean = np.sin(2 * np.pi * k / period + phase)  # (N, T + 1)
    x = clean[:, :T] + noise * rng.standard_normal((N, T))
    return x[:, :, None].astype(dtype), clean[:, T:].astype(dtype)  # (N, T, 1), (N, 1)


def recall_task(n_samples: int, T: int = 30, n_symbols: int = 4, rng: RngLike = None,
                dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Remember the first symbol of a sequence of T random symbols.

    Every step holds one of ``n_symbols`` symbols, one-hot; the label is the
    symbol at step 0. The other T - 1 symbols are distractors: a model must
    carry one piece of information unchanged across T - 1 steps. Guessing scores
    1 / n_symbols.

    Returns x (N, T, n_symbols) one-hot and y (N,) integer labels.
    """
    N = check_int(n_samples, "n_samples", "recall_task")
    T = check_int(T, "T", "recall_task")
    K = check_int(n_symbols, "n_symbols", "recall_task", low=2)
    symbols = as_rng(rng).integers(0, K, size=(N, T))  # (N, T)
    x = np.eye(K, dtype=dtype)[symbols]  # (N, T) -> (N, T, K)
    return x, symbols[:, 0].copy()
