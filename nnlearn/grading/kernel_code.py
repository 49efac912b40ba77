"""Code the grader runs *inside* a student's kernel.

The grader never imports this module in the kernel: it sends the source text of
these functions (``inspect.getsource``) and executes it in a throw-away namespace.
So nothing named ``nnlearn.grading`` appears in the student's ``sys.modules`` or
globals, and there is no grader module for student code to monkeypatch ahead of
time. Both functions use only the standard library, NumPy and
``nnlearn.exercises.compare`` (which the student's notebook imports anyway).

Nothing here decides a grade. :func:`install_guard` makes it harder for student
code to read what it must not read; :func:`run_cases` calls the student's
function and writes plain arrays. Whatever student code does to either (it runs
in the same process and can patch NumPy, ``to_plain``...), the worst it can
achieve is to spoil its own outputs: the verdict is computed in the grader's
process, against reference outputs that never enter the kernel.
"""

from __future__ import annotations

from typing import Any

# Events that start another program. A child process would not inherit the audit
# hook, so it could read anything; course exercises never need one.
PROCESS_EVENTS = (
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
)


def install_guard(denied: list[str], allowed: list[str]) -> None:
    """Install an audit hook refusing file access under ``denied`` and new processes.

    Parameters
    ----------
    denied : list of str
        Absolute, resolved paths (files or directories) the kernel must not touch:
        solutions, hidden tests, other submissions, the grader's private files and
        outputs. ``/proc/<pid>`` of every other process is refused as well (the
        grader's memory holds the reference outputs).
    allowed : list of str
        Exceptions inside ``denied`` (the kernel's own working directory).

    Notes
    -----
    ``sys.addaudithook`` hooks cannot be removed, and every ``open`` (``open``,
    ``os.open``, ``io.open_code``, ``np.load``, ``pathlib``...), directory listing,
    link, rename, copy or Unix-socket connect raises an audit event carrying the
    path, which is resolved (symlinks, ``..``) before the check. Refusals raise
    ``PermissionError``, which libraries already handle as "no access".

    Limits, honestly: a hook is a speed bump, not a jail. Native code (ctypes
    calling libc, a C extension) does not raise these events, and a root kernel
    can raise its own resource limits. The real defence is elsewhere: reference
    outputs never exist in the kernel or on its disk, and hidden inputs are drawn
    from the instructor's seed at grading time.
    """
    import os
    import sys
    import threading

    blocked = tuple(denied)
    blocked_dirs = tuple(os.path.join(p, "") for p in denied)
    exceptions = tuple(allowed)
    exception_dirs = tuple(os.path.join(p, "") for p in allowed)
    process_events = frozenset(PROCESS_EVENTS)
    state = threading.local()
    realpath, fsdecode, getpid = os.path.realpath, os.fsdecode, os.getpid

    def refused(arg: Any) -> bool:
        if not isinstance(arg, (str, bytes, os.PathLike)):
            return False
        try:
            path = realpath(fsdecode(arg))
        except (TypeError, ValueError, OSError):
            return False
        if path.startswith("/proc/"):
            pid = path.split("/")[2]
            if pid.isdigit() and int(pid) != getpid():
                return True
        if path in exceptions or path.startswith(exception_dirs):
            return False
        return path in blocked or path.startswith(blocked_dirs)

    def hook(event: str, args: tuple) -> None:
        if getattr(state, "busy", False):
            return
        if event in process_events:
            raise PermissionError(13, f"Permission denied: {event} is not available here")
        if event == "open":
            paths = args[:1]
        elif event.startswith(("os.", "shutil.")):
            paths = args[:2]  # (path,) or (src, dst)
        elif event in ("socket.connect", "socket.bind"):
            paths = args[1:2]  # a Unix socket's path (e.g. another kernel's)
        else:
            return
        state.busy = True
        try:
            for arg in paths:
                if refused(arg):
                    raise PermissionError(13, "Permission denied", fsdecode(arg))
        finally:
            state.busy = False

    sys.addaudithook(hook)


def install_output_cap(limit: int) -> None:
    """Keep at most ``limit`` characters of printed text per cell, then one marker line.

    A courtesy to honest students (a 10 MB print costs nothing but the rest of the
    print); student code can undo it, which only makes its own grading slower: the
    grader drops oversized messages and caps what it keeps on its side as well.
    """
    import sys

    from IPython import get_ipython

    state = {"kept": 0, "noted": False}
    marker = f"\n[output truncated after {limit} characters]\n"

    def capped(write):
        def capped_write(text, *args, **kwargs):
            if not isinstance(text, str):
                return write(text, *args, **kwargs)
            room = limit - state["kept"]
            state["kept"] += len(text)
            if len(text) <= room:
                return write(text, *args, **kwargs)
            if room > 0:
                write(text[:room])
            if not state["noted"]:
                state["noted"] = True
                write(marker)
            return len(text)

        return capped_write

    def before_cell(*args, **kwargs) -> None:
        # IPython wraps each stream's write method for the cell just before this event
        # and restores it afterwards, so the cap is wrapped around it anew every cell.
        state["kept"], state["noted"] = 0, False
        for stream in (sys.stdout, sys.stderr):
            stream.write = capped(stream.write)

    get_ipython().events.register("pre_run_cell", before_cell)


def run_cases(name: str, inputs: str, outputs: str, user_ns: dict, forbid_warnings: bool) -> None:
    """Call ``user_ns[name](**case)`` on each case in ``inputs``; write ``outputs``.

    Parameters
    ----------
    name : str
        The student's function, looked up in the notebook's namespace.
    inputs : str
        ``.npz`` of ``to_plain(cases)`` (a list of keyword-argument dicts),
        loaded with ``allow_pickle=False``.
    outputs : str
        ``.npz`` to write: for case ``i`` either the arrays of ``to_plain(out)``
        under ``"<i>:<key>"``, or ``"<i>:error"`` holding the exception's type
        name (only the name: messages are the student's and may be long), or
        ``"<i>:warning"`` holding the first warning's category name.
    user_ns : dict
        The notebook's globals.
    forbid_warnings : bool
        The exercise is about numerical stability (``Exercise.forbid_warnings``): a case
        whose call issues a warning is recorded as a warning, not as an output, as the
        public ``check()`` does. NumPy's default error handling (warn on overflow,
        invalid values and division by zero) is restored for the call, so a notebook-wide
        ``np.seterr(all="ignore")`` hides nothing.
    """
    import warnings

    import numpy as np

    from nnlearn.exercises.compare import from_plain, to_plain

    with np.load(inputs, allow_pickle=False) as data:
        cases = from_plain({key: data[key] for key in data.files})
    function = user_ns.get(name)
    arrays: dict[str, np.ndarray] = {}
    for i, kwargs in enumerate(cases):
        try:
            if not callable(function):
                raise NameError(f"name {name!r} is not defined")
            with warnings.catch_warnings(record=True) as caught, np.errstate(
                    divide="warn", over="warn", invalid="warn"):
                warnings.simplefilter("always")
                plain = to_plain(function(**kwargs))
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: B036 - SystemExit etc. are this case's verdict
            arrays[f"{i}:error"] = np.array(type(error).__name__[:80])
            continue
        if forbid_warnings and caught:
            arrays[f"{i}:warning"] = np.array(caught[0].category.__name__[:80])
            continue
        for key, value in plain.items():
            arrays[f"{i}:{key}"] = value
    np.savez(outputs, **arrays)
