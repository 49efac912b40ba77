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
        return f"{type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"dict with keys {list(value)[:6]}"
    return f"a {type(value).__name__} object"


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
) -> WrongOutput:
    """The student's output differs: inputs, expected-vs-received, hint."""
    lines = [f"✗ {function} returned a wrong result on public test {number} of {total}."]
    lines += _block("inputs", describe_inputs(case))
    lines.append(f"  {difference}")
    lines += _block("warnings", warnings)
    if hint:
        lines.append(f"  hint: {hint}")
    return WrongOutput("\n".join(lines))
