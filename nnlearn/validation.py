"""Input checks shared by the public entry points.

Every check raises ``ValueError`` (wrong value or shape) or ``TypeError`` (wrong
kind of object) with a message that names what was expected and what was
received, so a learner can fix the call without reading library code.
"""

from __future__ import annotations

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


def check_positive_int(value, name: str, owner: str) -> int:
    """Return ``value`` as int if it is an integer >= 1, else raise in sklearn's style."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"The '{name}' parameter of {owner} must be an int >= 1. Got {value!r} instead.")
    return int(value)


def check_fraction(value, name: str, owner: str, low_open: bool = False) -> float:
    """Return ``value`` as float if it lies in [0, 1) (or (0, 1) with ``low_open``)."""
    ok = isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)
    ok = ok and (0 < value < 1 if low_open else 0 <= value < 1)
    if not ok:
        interval = "(0, 1)" if low_open else "[0, 1)"
        raise ValueError(f"The '{name}' parameter of {owner} must be a float in {interval}. Got {value!r} instead.")
    return float(value)
