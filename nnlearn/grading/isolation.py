"""The OS-level sandbox around each student kernel: bubblewrap (``bwrap``) on Linux.

:func:`kernel_command` wraps the kernel's command line in ``bwrap`` so that the
kernel runs

* in new PID, IPC, network and UTS namespaces (it sees only its own processes,
  has no network, not even to the grader), in a new session, and is killed when
  the grader's worker dies (``--die-with-parent``);
* on a file system built from nothing: read-only binds of the system (``/usr``,
  ``/etc``...), the Python installation, the virtual environment and the ``nnlearn``
  package *without* the exercise specs (their reference functions are the answers;
  :func:`spec_dirs`); a fresh ``/proc``, ``/dev`` and a small ``/tmp``; and two
  writable directories of the grader's: the submission's scratch directory (cwd,
  ``HOME``, ``TMPDIR``, ``IPYTHONDIR``, ``MPLCONFIGDIR``) and the kernel's socket
  directory. Solutions, hidden tests, other submissions
  and the grader's outputs are simply not there (and are masked with empty
  directories should one sit inside a bound directory);
* with no capabilities. Graded as root, the kernel also runs under a fresh
  unprivileged uid (``setpriv``), so the file-size, address-space and process-count
  limits set before ``exec`` hold: raising a hard limit needs ``CAP_SYS_RESOURCE``,
  and Linux counts processes per real uid and does not count them for root.

Only plain files cross the boundary: the hidden inputs the grader writes, the
``.npz`` outputs the kernel writes (read back defensively, see
:func:`nnlearn.grading.runner.read_results`) and the Jupyter messages on the
kernel's Unix sockets.

Where ``bwrap`` is missing or cannot create namespaces, :func:`unavailable`
says why and how to get it; ``nnlearn grade --no-sandbox`` then grades without
isolation (every status says "not isolated").
"""

from __future__ import annotations

import functools
import os
import resource
import secrets
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf "
    "install bubblewrap; Arch: sudo pacman -S bubblewrap), or pass --no-sandbox to grade "
    "without isolation (only for submissions you trust)"
)
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/opt")
MAX_PROCESSES = 512  # threads included: a kernel uses ~20 (BLAS, ZeroMQ, IPython)
MAX_FILE_BYTES = 256 * 2**20
TMP_BYTES = 64 * 2**20


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why the sandbox cannot run here (None if it can)."""
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux (this is {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "the grading sandbox needs bubblewrap ('bwrap' is not on PATH)"
    try:
        done = subprocess.run(
            [bwrap, *_namespaces(), "--ro-bind", "/", "/", "true"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap could not run ({error})"
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"bubblewrap cannot create namespaces here ({reason[0]})"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "graded as root, the sandbox needs setpriv (util-linux) to drop to another uid"
    return None


def _namespaces() -> list[str]:
    # As root no user namespace: the kernel drops to an unmapped uid with setpriv instead.
    # As a normal user bwrap needs one (unprivileged user namespaces).
    user = [] if os.geteuid() == 0 else ["--unshare-user", "--disable-userns"]
    return [*user, "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]


def _existing(paths) -> list[str]:
    found = []
    for path in paths:
        if path and os.path.isdir(path):
            real = os.path.realpath(path)
            if real not in found:
                found.append(real)
    return found


def spec_dirs() -> list[str]:
    """The exercise specs (``nnlearn/exercises/specs`` and ``NNLEARN_EXERCISE_SPECS``): their
    reference functions are the answers, and grading needs none of them in the kernel (the
    grader hands it the public tests as data), so the sandbox masks them with empty dirs."""
    import nnlearn
    from nnlearn.exercises.registry import SPECS_ENV

    package = Path(nnlearn.__file__).resolve().parent
    paths = [str(package / "exercises" / "specs"), *os.environ.get(SPECS_ENV, "").split(os.pathsep)]
    return _existing(paths)


@functools.lru_cache(maxsize=1)
def readable_dirs() -> tuple[str, ...]:
    """Directories bound read-only: Python, the venv, sys.path, the nnlearn package.

    ``sys.path`` entries that are not real directories (``''``, zip files) and the
    current directory are left out; the ``nnlearn`` package is bound as a
    package directory, never the repository holding it (which has ``solutions/``).
    """
    import nnlearn

    package = str(Path(nnlearn.__file__).resolve().parent)
    paths = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    paths += [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")]
    repo = str(Path(package).parent)
    paths += [p for p in sys.path if p and os.path.realpath(p) not in (repo, os.getcwd())]
    paths += [package]
    found = _existing(paths)
    # Keep only the outermost of nested directories (binding both would be redundant).
    return tuple(p for p in found if not any(p != q and p.startswith(q + os.sep) for q in found))


def new_uid() -> int | None:
    """A fresh unprivileged uid for one kernel when grading as root, else None."""
    if os.geteuid() != 0:
        return None
    return 2**30 + secrets.randbelow(2**30)


def kernel_command(argv: list[str], writable: list[str], cwd: str, masked: list[str],
                   uid: int | None) -> list[str]:
    """``argv`` (the kernel's command) wrapped in ``bwrap``.

    Parameters
    ----------
    argv : list of str
        The kernel's command line.
    writable : list of str
        Directories bound read-write at the same path (scratch and socket dirs).
    cwd : str
        The kernel's working directory (one of ``writable``).
    masked : list of str
        Paths that must not be visible even if inside a bound directory.
    uid : int or None
        Graded as root: the uid the kernel runs as (see :func:`new_uid`).
    """
    command = [shutil.which("bwrap") or "bwrap", *_namespaces(), "--cap-drop", "ALL"]
    if uid is not None:
        command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    # /tmp first: a tmpfs mounted later would hide whatever was bound below it (the course
    # itself may live under /tmp, e.g. a CI checkout).
    command += ["--proc", "/proc", "--dev", "/dev",
                "--size", str(TMP_BYTES), "--tmpfs", "/tmp", "--hostname", "sandbox"]
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    bound = list(readable_dirs())
    command += _parents(bound, {*SYSTEM_DIRS, "/tmp"})
    for path in bound:
        command += ["--ro-bind", path, path]
    command += _parents(writable, {"/tmp"})
    for path in writable:
        command += ["--bind", path, path]
    for path in masked:
        inside = any(path == b or path.startswith(b + os.sep) for b in [*bound, *SYSTEM_DIRS])
        if inside and os.path.isdir(path):
            command += ["--tmpfs", path, "--remount-ro", path]
        elif inside and os.path.exists(path):
            command += ["--ro-bind", "/dev/null", path]
    # ipykernel would quit at once: in the PID namespace its parent is bwrap's pid 1, which
    # it reads as "the launcher died" (--die-with-parent already covers that case).
    command += ["--chdir", cwd, "--unsetenv", "JPY_PARENT_PID"]
    if uid is not None:
        command += ["--", shutil.which("setpriv") or "setpriv", f"--reuid={uid}",
                    f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]
    return [*command, "--", *argv]


def _parents(paths: list[str], skip: set[str]) -> list[str]:
    """``--dir`` arguments creating the ancestors of ``paths`` traversable by anyone (bwrap
    would copy their modes, and e.g. ``/root`` is 0700: a kernel under another uid could not
    reach a Python installed below it)."""
    made: list[str] = []
    for path in paths:
        for parent in reversed(Path(path).parents):
            name = str(parent)
            if name != "/" and name not in skip and name not in made and name not in paths:
                made.append(name)
    return [arg for name in made for arg in ("--perms", "0755", "--dir", name)]


def limits(memory_bytes: int, uid: int | None) -> list[tuple[int, int]]:
    """``(resource, value)`` pairs for :func:`apply_limits`, computed in the parent.

    Under a fresh uid the process limit counts this kernel's processes only; as a
    normal user Linux counts all of the user's processes, so the limit is set
    above their current number.
    """
    processes = MAX_PROCESSES if uid is not None else _user_processes() + MAX_PROCESSES
    wanted = [(resource.RLIMIT_AS, memory_bytes), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_FSIZE, MAX_FILE_BYTES), (resource.RLIMIT_NPROC, processes)]
    found = []
    for limit, value in wanted:
        hard = resource.getrlimit(limit)[1]
        found.append((limit, value if hard == resource.RLIM_INFINITY else min(value, hard)))
    return found


def apply_limits(pairs: list[tuple[int, int]]) -> None:
    """Set soft = hard limits (in the child before ``exec``; inherited by the kernel)."""
    for limit, value in pairs:
        resource.setrlimit(limit, (value, value))


def _user_processes() -> int:
    """Threads of this user (what RLIMIT_NPROC counts), from /proc."""
    uid, count = str(os.getuid()), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
                if fields["Uid"].split()[0] == uid:
                    count += int(fields["Threads"])
            except (OSError, KeyError, ValueError):
                pass
    return count
