"""Short, friendly verdicts for failed checks.

A failed check *raises* (nbgrader scores a test cell by whether it errors), but
the exception shows as a few lines of plain text instead of a traceback: IPython
displays ``exc._render_traceback_()`` in place of the traceback. The message
never contains solution code, only inputs, expected-vs-received and a hint.
"""

from __future__ import annotations

import re
import sysconfig
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from nnlearn.exercises.compare import compare

_STUB_RE = re.compile(r"Exercise (\d+(?:\.\d+)?): ([A-Za-z_]\w*)")
_MAX_MESSAGE = 300


class CheckFailed(AssertionError):
    """A public check failed. Its message is the whole, short verdict."""

    def _render_traceback_(self) -> list[str]:
        """What Jupyter shows instead of a traceback (one string per line)."""
        return str(self).splitlines()


class NotImplementedYet(CheckFailed):
    """The function still raises the stub's ``NotImplementedError``."""


class StudentCodeError(CheckFailed):
    """The student's function raised an exception."""


class WrongOutput(CheckFailed):
    """The student's function returned a wrong output."""


# -- describing inputs -----------------------------------------------------------------------


def describe_value(value: Any) -> str:
    """A compact description: small arrays in full, larger ones by dtype, shape and range."""
    if isinstance(value, np.ndarray):
        head = f"{value.dtype} array of shape {value.shape}"
        if value.size <= 8 and value.ndim <= 2:
            text = np.array2string(value, precision=4, separator=", ", suppress_small=True)
            return f"{head}: {' '.join(text.split())}"
        if value.dtype.kind in "iuf" and value.size and np.isfinite(value).all():
            return f"{head}, values in [{value.min():.4g}, {value.max():.4g}]"
        return head
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    if value is None or isinstance(value, (bool, int, str, np.generic)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if isinstance(value, (tuple, list)):
        if len(value) <= 4 and all(isinstance(v, (bool, int, float, str)) for v in value):
            return repr(value)
        if _is_simple(value) and len(repr(value)) <= 80:  # e.g. a short list of lists of ints
            return repr(value)
        return f"{type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"dict with keys {list(value)[:6]}"
    return f"a {type(value).__name__} object"


def _is_simple(value: Any) -> bool:
    """Plain numbers and strings, possibly in (nested) lists and tuples."""
    if isinstance(value, (tuple, list)):
        return all(_is_simple(v) for v in value)
    return isinstance(value, (bool, int, float, str))


def describe_inputs(case: dict[str, Any]) -> list[str]:
    """One line per keyword argument: ``"x = float64 array of shape (4, 3), ..."``."""
    return [f"{name} = {describe_value(value)}" for name, value in case.items()]


# -- finding the student's own line ----------------------------------------------------------


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = [paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths]
    roots.append(str(Path(__file__).resolve().parents[1]))  # the nnlearn package
    return tuple(str(Path(r).resolve()) for r in roots)


def student_line(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The innermost traceback frame that is the student's code (not a library's)."""
    roots = _library_roots()
    frames = [
        frame
        for frame in traceback.extract_tb(tb)
        if not frame.filename.startswith("<frozen")
        and not str(Path(frame.filename).resolve()).startswith(roots)
    ]
    return frames[-1] if frames else None


# -- the verdicts ----------------------------------------------------------------------------


def _block(title: str, lines: list[str]) -> list[str]:
    return [f"  {title}:"] + [f"    {line}" for line in lines] if lines else []


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def not_implemented(label: str, function: str, error: NotImplementedError) -> NotImplementedYet:
    """``Exercise 3.2 (dense_backward) is not implemented yet — ...``.

    If the error comes from another exercise's stub (this function calls an
    unfinished one), that exercise is named instead.
    """
    match = _STUB_RE.match(str(error))
    if match and match.group(2) != function:
        label = f"Exercise {match.group(1)} ({match.group(2)})"
        extra = f" ({function} uses it)"
    else:
        label = f"Exercise {match.group(1)} ({function})" if match else label
        extra = ""
    return NotImplementedYet(
        f"✗ {label} is not implemented yet{extra} — replace the "
        "`raise NotImplementedError(...)` line with your code."
    )


def student_error(
    function: str, number: int, total: int, case: dict, error: BaseException, hint: str
) -> StudentCodeError:
    """The student's code raised: type, message and the student's offending line."""
    lines = [f"✗ {function} raised {type(error).__name__} on public test {number} of {total}:"]
    lines.append(f"    {type(error).__name__}: {_short(error)}" if str(error) else "")
    frame = student_line(error.__traceback__)
    if frame is not None and frame.line:
        lines.append(f"  in {frame.name}, line {frame.lineno}:")
        lines.append(f"    {frame.line.strip()}")
    lines += _block("inputs", describe_inputs(case))
    if hint:
        lines.append(f"  hint: {hint}")
    return StudentCodeError("\n".join(line for line in lines if line))


def wrong_output(
    function: str,
    number: int,
    total: int,
    case: dict,
    difference: str,
    hint: str,
    warnings: list[str],
    guesses: list[str] = (),
) -> WrongOutput:
    """The student's output differs: inputs, expected-vs-received, a guess at the cause, hint."""
    lines = [f"✗ {function} returned a wrong result on public test {number} of {total}."]
    lines += _block("inputs", describe_inputs(case))
    lines.append(f"  {difference}")
    lines += [f"  likely: {guess}" for guess in guesses]
    lines += _block("warnings", warnings)
    if hint:
        lines.append(f"  hint: {hint}")
    return WrongOutput("\n".join(lines))


def right_but_warned(
    function: str, number: int, total: int, case: dict, hint: str, warnings: list[str]
) -> WrongOutput:
    """The values are right, but a stability exercise forbids the warning the code issued."""
    lines = [
        f"✗ {function} returned the right values on public test {number} of {total}, "
        "but your code issued a warning: a numerically stable version issues none."
    ]
    lines += _block("warnings", warnings)
    lines += _block("inputs", describe_inputs(case))
    if hint:
        lines.append(f"  hint: {hint}")
    return WrongOutput("\n".join(lines))


# -- clues: recognising common mistakes ------------------------------------------------------


def _first_difference(expected: Any, received: Any, names) -> tuple[str, Any, Any] | None:
    """The first leaf (label, expected, received) that differs, following compare()'s order."""
    if isinstance(expected, dict) and isinstance(received, dict):
        for key, value in expected.items():
            if key in received and compare(value, received[key]) is not None:
                return f"output[{key!r}]", value, received[key]
        return None
    if isinstance(expected, (tuple, list)) and isinstance(received, (tuple, list)):
        if len(expected) != len(received):
            return None
        labels = list(names) if names and len(names) == len(expected) else None
        for i, (e, r) in enumerate(zip(expected, received, strict=True)):
            if compare(e, r) is not None:
                return labels[i] if labels else f"output[{i}]", e, r
        return None
    return "output", expected, received


def _sizes(case: dict[str, Any]) -> dict[int, str]:
    """Sizes a wrong factor may come from: ``{4: "the number of rows of x", ...}``."""
    sizes: dict[int, str] = {}
    for name, value in case.items():
        if isinstance(value, np.ndarray) and value.ndim >= 1:
            if value.ndim >= 2:
                sizes.setdefault(value.shape[0], f"the number of rows of {name}")
            sizes.setdefault(value.size, f"the number of entries of {name}")
    return {n: text for n, text in sizes.items() if n >= 3}


def _factor_clue(e: np.ndarray, r: np.ndarray, case: dict[str, Any]) -> str | None:
    """received == k * expected everywhere (k = -1, N, 1/N, or any constant)."""
    nonzero = np.abs(e) > 1e-12
    if not nonzero.any() or not np.allclose(r[~nonzero], 0, atol=1e-12):
        return None
    ratio = r[nonzero] / e[nonzero]
    k = float(np.median(ratio))
    if not np.allclose(ratio, k, rtol=1e-6, atol=0) or np.isclose(k, 1) or k == 0:
        return None
    if np.isclose(k, -1):
        return "received = -expected: the sign is flipped"
    if np.isclose(k, 2) or np.isclose(k, 0.5):
        return (f"received = expected × {k:g} at every entry: a factor 2 — the derivative of a "
                "square, or the 1/2 in front of one?")
    sizes = _sizes(case)
    for n, what in sizes.items():
        if np.isclose(k, n, rtol=1e-6):
            return f"received = expected × {n}, and {n} is {what}: a sum where a mean belongs (a missing / N)?"
        if np.isclose(k, 1 / n, rtol=1e-6):
            return (f"received = expected / {n}, and {n} is {what}: a mean where a sum belongs "
                    "(or a division by N too many)?")
    if e.size < 2:
        return None
    return f"received = expected × {k:.4g} at every entry: a constant factor is off"


def _array_clue(e: np.ndarray, r: np.ndarray, case: dict[str, Any]) -> str | None:
    if r.shape == e.shape:
        if e.dtype.kind not in "fc" or r.dtype.kind not in "fc":
            return None
        if not (np.isfinite(e).all() and np.isfinite(r).all()):
            return None
        if e.ndim == 2 and e.shape[0] == e.shape[1] > 1 and np.allclose(r, e.T):
            return "received is the transpose of the expected array: a missing or extra .T?"
        factor = _factor_clue(e, r, case)
        if factor:
            return factor
        offset = (r - e).ravel()
        if e.size >= 2 and np.allclose(offset, offset[0]) and not np.isclose(offset[0], 0):
            return (f"received = expected + {float(offset[0]):.4g} at every entry: "
                    "a constant offset (a term too many or too few?)")
        return None
    if e.ndim == 2 and r.shape == e.shape[::-1]:
        exact = np.allclose(r, e.T) if r.dtype.kind in "fcbi" else False
        return ("the transposed shape" + (" (and exactly the transpose)" if exact else "")
                + ": operands of @ swapped, or a missing .T?")
    if r.size == e.size and r.squeeze().shape == e.squeeze().shape:
        return (f"the right number of entries in the wrong shape ({r.shape} instead of {e.shape}): "
                "keepdims, or a reshape?")
    if r.ndim == 2 and r.shape[0] == r.shape[1] and r.shape[0] in e.shape and e.size == r.shape[0]:
        return (f"a ({r.shape[0]}, {r.shape[0]}) array where {e.shape} is expected: an (N, 1) column "
                "and an (N,) row broadcast against each other into N × N")
    for name, value in case.items():
        if not isinstance(value, np.ndarray) or value.ndim < 2:
            continue
        reduced = [tuple(np.delete(value.shape, a)) for a in range(value.ndim)]
        kept = [tuple(1 if i == a else n for i, n in enumerate(value.shape)) for a in range(value.ndim)]
        for shapes in (reduced, kept):
            if e.shape in shapes and r.shape in shapes:
                a, b = shapes.index(e.shape), shapes.index(r.shape)
                if a != b:
                    return (f"the shape of {name} reduced over axis {b}, where axis {a} is expected: "
                            "the other axis?")
    return None


def clues(expected: Any, received: Any, case: dict[str, Any], names=None) -> list[str]:
    """Short guesses at the mistake behind a wrong output (empty if none fits).

    Recognises: ``None`` returned (a missing ``return``), a constant factor (-1,
    N, 1/N where N is a size of the inputs, or any constant), a constant offset,
    the transpose, the transposed shape, keepdims, an N × N broadcast, and a
    reduction over the other axis.
    """
    if received is None and expected is not None:
        return ["your function returned None: is the `return` line missing?"]
    found = _first_difference(expected, received, names)
    if found is None:
        return []
    label, e, r = found
    if r is None and e is not None:
        return [f"{label} is None: did you return it?"]
    numbers = (int, float, np.number, np.ndarray)
    if not (isinstance(e, numbers) and isinstance(r, numbers)) or isinstance(e, bool):
        return []
    e, r = np.asarray(e), np.asarray(r)
    if e.dtype.kind not in "biufc" or r.dtype.kind not in "biufc":
        return []
    try:
        with np.errstate(all="ignore"):
            clue = _array_clue(e.astype(np.float64) if e.dtype.kind in "iu" and r.dtype.kind == "f"
                               else e, r, case)
    except (TypeError, ValueError):
        return []
    return [f"{label}: {clue}"] if clue else []
