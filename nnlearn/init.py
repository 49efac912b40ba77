"""Weight initialisation and random-number handling.

Every random draw in nnlearn goes through a ``np.random.Generator``. Functions
that need randomness take ``rng``: an ``int`` seed, a ``Generator`` or ``None``
(fresh entropy). :func:`as_rng` turns any of these into a ``Generator``.

Why scale the initial weights? A dense layer computes ``out = x @ w``. With
``fan_in`` independent inputs of unit variance and weights of variance
``s**2``, each output has variance ``fan_in * s**2``. Choosing ``s`` so that
the variance neither grows nor shrinks layer after layer keeps signals (and
gradients) alive in deep networks:

* Xavier / Glorot (tanh, sigmoid):  Var(w) = 2 / (fan_in + fan_out)
* He / Kaiming (ReLU halves the variance, so double it):  Var(w) = 2 / fan_in

A uniform distribution U(-a, a) has variance a**2 / 3, hence the ``sqrt(3)``
in the uniform variants.
"""

from __future__ import annotations

import numpy as np

RngLike = int | np.random.Generator | None


def as_rng(rng: RngLike = None) -> np.random.Generator:
    """Return a ``np.random.Generator`` from a seed, a Generator or None.

    A Generator is returned as is (so draws continue its stream); an int seeds
    a new one; None gives a fresh, unpredictable one.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(
        f"rng must be an int seed, a numpy.random.Generator or None; got {type(rng).__name__}"
    )


def _check_shape(shape: tuple[int, int]) -> tuple[int, int]:
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (fan_in, fan_out) with both >= 1; got {shape}")
    return int(shape[0]), int(shape[1])


def xavier_normal(shape: tuple[int, int], rng: RngLike = None, dtype=np.float32) -> np.ndarray:
    """Glorot normal: w ~ N(0, 2 / (fan_in + fan_out)), shape (fan_in, fan_out)."""
    fan_in, fan_out = _check_shape(shape)
    std = np.sqrt(2.0 / (fan_in + fan_out))
    return (as_rng(rng).standard_normal((fan_in, fan_out)) * std).astype(dtype)


def xavier_uniform(shape: tuple[int, int], rng: RngLike = None, dtype=np.float32) -> np.ndarray:
    """Glorot uniform: w ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _check_shape(shape)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return as_rng(rng).uniform(-a, a, (fan_in, fan_out)).astype(dtype)


def he_normal(shape: tuple[int, int], rng: RngLike = None, dtype=np.float32) -> np.ndarray:
    """He / Kaiming normal: w ~ N(0, 2 / fan_in), shape (fan_in, fan_out)."""
    fan_in, fan_out = _check_shape(shape)
    std = np.sqrt(2.0 / fan_in)
    return (as_rng(rng).standard_normal((fan_in, fan_out)) * std).astype(dtype)


def he_uniform(shape: tuple[int, int], rng: RngLike = None, dtype=np.float32) -> np.ndarray:
    """He / Kaiming uniform: w ~ U(-a, a) with a = sqrt(6 / fan_in)."""
    fan_in, fan_out = _check_shape(shape)
    a = np.sqrt(6.0 / fan_in)
    return as_rng(rng).uniform(-a, a, (fan_in, fan_out)).astype(dtype)


INITIALIZERS = {
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "kaiming_uniform": he_uniform,
}


def get_initializer(name: str):
    """Look up an initializer by name, e.g. ``"he_normal"`` or ``"xavier_uniform"``."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(
            f"Unknown initializer {name!r}; expected one of {sorted(INITIALIZERS)}"
        ) from None
