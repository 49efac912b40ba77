"""Input checks shared by the public entry points.

Every check raises ``ValueError`` (wrong value or shape) or ``TypeError`` (wrong
kind of object) with a message that names what was expected and what was
received, so a learner can fix the call without reading library code.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_array(x, name: str = "x") -> np.ndarray:
    """Convert ``x`` to an ndarray of numbers, or raise TypeError naming its type."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like of numbers; got {type(x).__name__}") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold numbers (bool, int or float); got dtype {arr.dtype} "
            f"from {type(x).__name__}"
        )
    return arr


def check_ndim(x: np.ndarray, ndim: int, name: str = "x", layout: str = "") -> None:
    """Raise ValueError unless ``x.ndim == ndim``; ``layout`` is e.g. "(N, D)"."""
    if x.ndim != ndim:
        expected = f"{ndim}-D array {layout}".strip()
        raise ValueError(f"{name} must be a {expected}; got shape {x.shape} ({x.ndim}-D)")


def check_finite(x: np.ndarray, name: str = "x") -> None:
    """Raise ValueError if ``x`` holds NaN or infinity, saying how many and where the first is."""
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be finite; got {int(bad.sum())} NaN/inf value(s), "
            f"the first at index {first} ({x[first]})"
        )


def check_same_length(x: np.ndarray, y: np.ndarray, x_name: str = "x", y_name: str = "y") -> None:
    """Raise ValueError unless x and y have the same number of samples (first axis)."""
    if len(x) != len(y):
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples; "
            f"got {len(x)} and {len(y)}"
        )


def check_int(value, name: str, owner: str, low: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``low``, else raise in sklearn's style.

    >>> check_int(0, "epochs", "Sequential.fit")
    ValueError: The 'epochs' parameter of Sequential.fit must be an int >= 1. Got 0 instead.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low:
        return int(value)
    raise ValueError(f"The '{name}' parameter of {owner} must be an int >= {low}. Got {value!r} instead.")


_FLOAT_RULES = {
    "> 0": lambda v: v > 0,
    ">= 0": lambda v: v >= 0,
    "in [0, 1)": lambda v: 0 <= v < 1,
    "in (0, 1)": lambda v: 0 < v < 1,
    "in (0, 1]": lambda v: 0 < v <= 1,
}


def check_float(value, name: str, owner: str, rule: str = "> 0") -> float:
    """Return ``value`` as a float if it is a finite real number obeying ``rule``.

    ``rule`` is one of "> 0", ">= 0", "in [0, 1)", "in (0, 1)", "in (0, 1]"; the
    error reads "The 'lr' parameter of Adam must be a float > 0. Got -1 instead."
    """
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if is_real and math.isfinite(value) and _FLOAT_RULES[rule](float(value)):
        return float(value)
    raise ValueError(f"The '{name}' parameter of {owner} must be a float {rule}. Got {value!r} instead.")
