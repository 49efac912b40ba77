"""What comes back from a student's kernel, read as untrusted data.

The hidden tests' outputs arrive as an ``.npz`` file written by student-controlled
code, and exception names come from classes the student may have defined; both
are checked here before anything else in the grader looks at them.
"""

from __future__ import annotations

import builtins
import io
import os
import stat
import zipfile
from typing import Any

import numpy as np

from nnlearn.exercises.compare import from_plain

MAX_RESULT_BYTES = 256 * 2**20
OWN_EXCEPTION = "an exception of a class defined in your code"
_LIBRARY_EXCEPTIONS = frozenset({"LinAlgError", "AxisError", "CheckFailed"})


def exception_name(name: str) -> str:
    """``name`` if it names a built-in exception (or one of NumPy's), else
    :data:`OWN_EXCEPTION`: a student's class name could carry anything (hidden inputs,
    control characters) into the feedback."""
    found = getattr(builtins, name, None) if name.isidentifier() else None
    if isinstance(found, type) and issubclass(found, BaseException):
        return name
    return name if name in _LIBRARY_EXCEPTIONS else OWN_EXCEPTION


def read_results(path: str, n_cases: int) -> list[tuple[str, Any]]:
    """Read the kernel's output file defensively; raise ValueError if unusable.

    The file is written by student-controlled code, so: no symlinks, opened without
    blocking (it could be a FIFO), a regular file, at most ``MAX_RESULT_BYTES`` on disk
    *and* uncompressed (no zip bombs), ``allow_pickle=False``, and ``from_plain``
    validates the structure.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # a FIFO: no wait
    except OSError:
        raise ValueError("no output file") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RESULT_BYTES:
        os.close(fd)
        raise ValueError("output file is not a regular file of reasonable size")
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_RESULT_BYTES + 1)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_RESULT_BYTES:
                raise ValueError("outputs too large")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"unreadable output file ({type(error).__name__})") from None
    results = []
    for i in range(n_cases):
        error = arrays.get(f"{i}:error")
        if error is None:
            error = arrays.get(f"{i}:warning")  # a warning where the exercise forbids one
        if error is not None:
            name = str(error)[:80] if error.dtype.kind == "U" and error.ndim == 0 else "?"
            results.append(("error", exception_name(name)))
            continue
        prefix = f"{i}:"
        plain = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        try:
            results.append(("ok", from_plain(plain)))
        except (ValueError, TypeError, RecursionError):
            results.append(("error", "invalid output"))
    return results
