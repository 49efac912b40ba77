"""A hostile class against the sandbox: every attack of issue 12 in one batch.

Each attack is a solution cell for ``add_one`` (2 points) that returns the right
answer only if the attack *worked* (it read a secret, wrote outside its scratch
directory, raised a limit...), and the wrong answer otherwise; ``square``
(3 points) is answered correctly. So a defeated attack scores exactly what the
plainly wrong submission scores (3), and any success shows up as points. Other
attacks aim at the batch itself (killing or stopping the grader, FIFOs and
directories instead of result files, processes that outlive the grader) or at
the reports (hidden inputs in exception names, control characters, formulas);
reading the exercise specs, or reaching the registry's reference by roundabout
routes, must fail (the sandbox has no specs), and the routes must be flagged ``review``.

The batch runs once (module-scoped) through the real command line, with the
sandbox; the tests skip, with the reason, where bubblewrap is not available.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from nnlearn.grading.isolation import unavailable

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
SOLUTION = FIXTURES / "solutions" / "00_toy.ipynb"
EXERCISE = FIXTURES / "exercises" / "00_toy.ipynb"
SEED = 4242
MARKER = "987654"  # in the command line of every process an attack tries to leave behind
GOOD_SQUARE = "def square(x):\n    return x * x\n"

pytestmark = pytest.mark.skipif(bool(unavailable()), reason=f"no sandbox: {unavailable()}")


LIBC = """
    import ctypes, os
    _libc = ctypes.CDLL(None, use_errno=True)
    def _read(path, dir_fd=-100):  # -100: AT_FDCWD
        fd = _libc.openat(dir_fd, path.encode(), os.O_RDONLY)
        if fd < 0:
            return b""
        buffer = ctypes.create_string_buffer(4096)
        n = _libc.read(fd, buffer, 4096)
        _libc.close(fd)
        return buffer.raw[:max(n, 0)]
    def _append(path):
        fd = _libc.open(path.encode(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if fd < 0:
            return False
        written = _libc.write(fd, b"# tampered", 10)
        _libc.close(fd)
        return written == 10
    """


def _wins(body: str, libc: bool = False) -> str:
    """An add_one that is right only if ``_attack()`` (defined by ``body``) returns True;
    ``libc``: with helpers calling the C library directly (bypassing the audit hook)."""
    prelude = textwrap.dedent(LIBC) if libc else ""
    return prelude + textwrap.dedent(body) + textwrap.dedent("""
        _won = []
        def add_one(x):
            if not _won:  # attack once, on the first call
                try:
                    _won.append(bool(_attack()))
                except Exception:
                    _won.append(False)
            return x + 1.0 if _won[0] else x
        """)


def _notebook(add_one: str, square: str = GOOD_SQUARE, assignment: str | None = None):
    nb = nbformat.read(str(EXERCISE), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = {"add_one": add_one, "square": square}[grade_id]
    if assignment:
        nb.metadata["nnlearn"]["assignment"] = assignment
    return nb


def _reference(body: str) -> str:
    return textwrap.dedent(body)


def _attacks(sub: Path, out: Path) -> dict[str, str]:
    home = os.path.expanduser("~")
    secrets_ = [(str(ROOT), "tests/fixtures/grading/solutions/00_toy.ipynb"),
                (str(sub), "good.ipynb"), (str(FIXTURES / "hidden"), "toy_extra.py"),
                (str(out), "grades.csv"), ("/etc", "shadow")]
    writes = [str(sub / "good.ipynb"), str(SOLUTION), str(ROOT / "nnlearn/exercises/compare.py"),
              f"{home}/.ipython/profile_default/startup/00-evil.py", str(out / "grades.csv"),
              str(ROOT / "nnlearn/evil.py")]
    specs = [str(ROOT / "nnlearn/exercises/specs/activations.py"), str(FIXTURES / "specs/toy.py")]
    pickled = pickle.dumps(__import__("nnlearn.exercises.registry").exercises.registry.get_exercise)
    exec_source = base64.b64encode(
        b"from nnlearn.exercises import get_exercise as g\n"
        b"def add_one(x):\n    return g('toy.add_one').reference(x=x)\n")
    return {
        # -- reading what must stay hidden (libc through ctypes: no audit hook sees it) --------
        "read_dir_fd": _wins(libc=True, body=f"""
            def _attack():
                for directory, name in {secrets_!r}:
                    if _read(name, _libc.open(directory.encode(), os.O_RDONLY)):
                        return True
                    try:  # and the same in Python, which the audit hook also watches
                        fd = os.open(name, os.O_RDONLY, dir_fd=os.open(directory, os.O_RDONLY))
                        if os.read(fd, 10):
                            return True
                    except OSError:
                        pass
                return False
            """),
        "read_proc": _wins(libc=True, body=f"""
            def _attack():
                for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
                    for name in ("cmdline", "environ"):
                        text = _read(f"/proc/{{pid}}/{{name}}")
                        if b"--seed" in text or {str(FIXTURES / "solutions").encode()!r} in text:
                            return True
                return False
            """),
        "read_specs": _wins(libc=True, body=f"""
            import importlib, runpy
            def _attack():  # the specs' reference functions are the answers
                if any(_read(path) for path in {specs!r}):
                    return True
                try:
                    return callable(runpy.run_path({specs[1]!r})["_add_one"])
                except Exception:
                    pass
                try:
                    return bool(importlib.import_module("nnlearn.exercises.specs.activations"))
                except ImportError:
                    return False
            """),
        # -- changing what must not change --------------------------------------------------
        "write_files": _wins(libc=True, body=f"""
            def _attack():
                won = False
                for path in {writes!r}:
                    _libc.mkdir(os.path.dirname(path).encode(), 0o755)
                    won = _append(path) or won
                return _libc.mkdir({str(out / "grades.csv").encode()!r}, 0o755) == 0 or won
            """),
        # -- processes and limits --------------------------------------------------------------
        "escape_processes": _wins(libc=True, body=f"""
            import multiprocessing, time
            def _attack():
                _libc.system(b"setsid sleep {MARKER} >/dev/null 2>&1 &")
                _libc.system(b"nohup sh -c 'sleep {MARKER}' >/dev/null 2>&1 &")
                if _libc.fork() == 0:  # a daemon, the classic way
                    _libc.setsid()
                    _libc.execl(b"/bin/sleep", b"sleep", b"{MARKER}", None)
                    _libc._exit(0)
                try:
                    context = multiprocessing.get_context("spawn")
                    context.Process(target=time.sleep, args=({MARKER},)).start()
                except Exception:
                    pass
                return False
            """),
        "raise_limits": _wins("""
            import resource
            def _attack():
                for limit in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE):
                    try:
                        resource.setrlimit(limit, (resource.RLIM_INFINITY,) * 2)
                        return True
                    except (ValueError, OSError):
                        pass
                try:
                    hog = bytearray(3 * 2**30)
                    return len(hog) > 0
                except MemoryError:
                    return False
            """),
        "fork_bomb": _wins(libc=True, body="""
            def _attack():
                children = 0
                for _ in range(600):
                    pid = _libc.fork()
                    if pid == 0:
                        _libc.sleep(3)
                        _libc._exit(0)
                    if pid < 0:
                        break
                    children += 1
                for _ in range(children):
                    os.wait()
                return children >= 600
            """),
        # -- breaking the instructor's run -----------------------------------------------------
        "kill_grader": _wins("""
            import os, signal
            def _attack():
                # The kernel's parent and grandparent: the grader's worker and the grader
                # without a sandbox. (Only these two: were the sandbox missing, a wider
                # attack would hit every process of the machine's root user.)
                parent = os.getppid()
                try:
                    with open(f"/proc/{parent}/stat") as f:
                        grandparent = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    grandparent = 0
                for pid in {parent, grandparent} - {0, 1, os.getpid()}:
                    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGKILL):
                        try:
                            os.kill(pid, sig)
                        except OSError:
                            pass
                return False
            """),
        "fifo_result": "import os\nimport numpy as np\n"
                       "np.savez = lambda file, **arrays: os.mkfifo(file)\n"
                       "def add_one(x):\n    return x + 1.0\n",
        "dir_result": "import os\nimport numpy as np\n"
                      "np.savez = lambda file, **arrays: os.mkdir(file)\n"
                      "def add_one(x):\n    return x + 1.0\n",
        "symlink_result": "import os\nimport numpy as np\n"
                          f"np.savez = lambda file, **arrays: os.symlink({str(SOLUTION)!r}, file)\n"
                          "def add_one(x):\n    return x + 1.0\n",
        # -- lost credit for harmless things ----------------------------------------------------
        "huge_print": "def add_one(x):\n    return x + 1.0\nprint('x' * 300_000_000)\n",
        # -- leaks and injection ---------------------------------------------------------------
        "leak_type_name": "def add_one(x):\n"
                          "    raise type(repr(x.ravel()[:5].tolist()), (Exception,), {})()\n",
        "control_chars": 'print("\\x1b]0;pwned\\x07\\x1b[2J\\r=HYPERLINK(1)")\n'
                         'raise type("=cmd|\\x1b[31m\\x07\\r", (Exception,), {})("\\x1b[2J=1+2")\n',
        # -- reference use by roundabout routes (must be flagged) -----------------------------
        "ref_import_module": _reference("""
            import importlib
            _m = importlib.import_module("nn" + "learn.exer" + "cises")
            def add_one(x):
                return getattr(_m, "get_" + "exercise")("toy.add_one").reference(x=x)
            """),
        "ref_sys_modules": _reference("""
            import sys
            def add_one(x):
                registry = sys.modules["nn" + "learn.exercises.registry"]
                return registry.get_exercise("toy.add_one").reference(x=x)
            """),
        "ref_globals": _reference("""
            def add_one(x):
                return check.__globals__["get_" + "exercise"]("toy.add_one").reference(x=x)
            """),
        "ref_builtins": _reference("""
            import builtins
            _imp = getattr(builtins, "__imp" + "ort__")
            def add_one(x):
                module = _imp("nn" + "learn.exercises", fromlist=["x"])
                return module.get_exercise("toy.add_one").reference(x=x)
            """),
        "ref_exec_base64": f"import base64\nexec(base64.b64decode({exec_source!r}))\n",
        "ref_pickle": _reference(f"""
            import pickle
            _get = pickle.loads({pickled!r})
            def add_one(x):
                return _get("toy.add_one").reference(x=x)
            """),
        "ref_magic": "%time from nnlearn.exercises import get_exercise as g\n"
                     "def add_one(x):\n    return g('toy.add_one').reference(x=x)\n",
    }


def _hash_tree(paths) -> dict[str, str]:
    found = {}
    for path in paths:
        path = Path(path)
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            try:
                found[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
            except OSError:
                pass
    return found


def _protected_state(sub: Path) -> dict[str, str]:
    """Hashes of the repository's tracked files, the submissions and the IPython profile,
    and the file list of site-packages."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    files = [ROOT / f for f in tracked.stdout.split()] if tracked.returncode == 0 else [ROOT]
    # The IPython profile's startup files and configuration (not its history, which other
    # IPython sessions on this machine may write while the batch runs).
    profile = Path.home() / ".ipython"
    config = [p for p in profile.rglob("*") if "startup" in p.parts or p.suffix in (".py", ".json")]
    state = _hash_tree([*files, sub, *config])
    site = Path(__import__("numpy").__file__).parents[1]
    state["site-packages"] = hashlib.sha256(
        "\n".join(sorted(p.name for p in site.iterdir())).encode()).hexdigest()
    return state


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attack(tmp_path_factory):
    root = tmp_path_factory.mktemp("attacks")
    sub, out, private = root / "class", root / "out", root / "tmp"
    for d in (sub, out, private):
        d.mkdir()
    notebooks = {name: _notebook(source) for name, source in _attacks(sub, out).items()}
    notebooks["good"] = nbformat.read(str(SOLUTION), as_version=4)
    notebooks["wrong"] = _notebook("def add_one(x):\n    return x\n")
    notebooks["other_assignment"] = _notebook("def add_one(x):\n    return x + 1.0\n",
                                              assignment="01_other")
    for name, nb in notebooks.items():
        nbformat.write(nb, str(sub / f"{name}.ipynb"))
    (sub / "=HYPERLINK(1).ipynb").write_bytes((sub / "good.ipynb").read_bytes())
    (sub / "directory.ipynb").mkdir()
    os.mkfifo(sub / "fifo.ipynb")
    os.symlink(sub / "good.ipynb", sub / "link_to_classmate.ipynb")
    os.symlink(SOLUTION, sub / "link_to_solution.ipynb")
    before = _protected_state(sub)
    command = [
        sys.executable, "-m", "nnlearn.cli", "grade", str(sub), "--assignment", "00_toy",
        "--solutions", str(FIXTURES / "solutions"), "--tests", str(FIXTURES / "hidden"),
        "--out", str(out / "grades.csv"), "--feedback", str(out / "feedback"),
        "--jobs", "2", "--timeout-cell", "10", "--timeout-notebook", "60",
        "--memory", "2048", "--seed", str(SEED),
    ]  # fmt: skip
    env = {**os.environ, "NNLEARN_EXERCISE_SPECS": str(FIXTURES / "specs"),
           "TMPDIR": str(private)}
    start = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, timeout=600)
    seconds = time.monotonic() - start
    time.sleep(1)  # let killed sandboxes finish dying
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {Path(r["submission"].lstrip("'")).stem: r for r in csv.DictReader(f)}
    return {"done": done, "rows": rows, "out": out, "sub": sub, "private": private,
            "before": before, "after": _protected_state(sub), "seconds": seconds}


def _total(attack, name) -> float:
    return float(attack["rows"][name]["total"] or 0)


def test_the_batch_finishes_with_a_row_for_every_entry(attack):
    done = attack["done"]
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    names = {p.stem for p in attack["sub"].iterdir()}
    assert set(attack["rows"]) == names
    print(f"{len(names)} submissions graded in {attack['seconds']:.1f} s")


def test_good_and_wrong(attack):
    assert (_total(attack, "good"), attack["rows"]["good"]["status"]) == (5, "ok")
    assert _total(attack, "wrong") == 3


@pytest.mark.parametrize("name", ["read_dir_fd", "read_proc", "read_specs", "write_files",
                                  "escape_processes", "raise_limits", "fork_bomb", "kill_grader"])
def test_attack_earns_no_more_than_the_wrong_answer(attack, name):
    row = attack["rows"][name]
    assert _total(attack, name) <= _total(attack, "wrong"), row
    assert float(row["check_square"]) == 3, row  # the rest of the submission is graded
    assert "(solution cell add_one)" not in row["status"], row  # the attack did run


def test_nothing_outside_the_grader_outputs_changed(attack):
    changed = [k for k in attack["before"] if attack["before"][k] != attack["after"].get(k)]
    assert changed == []
    # New files: none, but the README IPython writes when a kernel of another test file
    # (running in parallel) creates the profile for the first time.
    new = set(attack["after"]) - set(attack["before"])
    assert [n for n in new if not n.endswith(os.path.join("startup", "README"))] == []


def test_no_process_outlives_the_grader(attack):
    assert _processes_mentioning(MARKER) == []
    assert _processes_mentioning(str(attack["private"])) == []
    assert list(attack["private"].iterdir()) == []


@pytest.mark.parametrize("name", ["fifo_result", "dir_result", "symlink_result"])
def test_a_result_file_that_is_not_a_file_costs_that_submission_only(attack, name):
    row = attack["rows"][name]
    assert "hidden tests for add_one" in row["status"], row
    assert _total(attack, name) == 0  # the patched np.savez spoils both exercises


@pytest.mark.parametrize(("name", "status"), [
    ("directory", "not a notebook file but a directory"),
    ("fifo", "not a notebook file but a FIFO"),
    ("link_to_classmate", "not a notebook file but a symbolic link (not followed)"),
    ("link_to_solution", "not a notebook file but a symbolic link (not followed)"),
    ("other_assignment", "the notebook is assignment '01_other', not '00_toy' (--assignment)"),
])
def test_odd_entries_get_a_row_with_a_clear_status(attack, name, status):
    row = attack["rows"][name]
    assert row["status"].startswith(status), row
    assert row["total"] == "0"


def test_a_huge_print_is_truncated_and_costs_nothing(attack):
    row = attack["rows"]["huge_print"]
    assert _total(attack, "huge_print") == 5, row
    assert "output truncated after 1000000 characters in cell 4 (add_one)" in row["status"]
    assert (attack["out"] / "feedback" / "huge_print.md").stat().st_size < 1_100_000


def test_exception_names_never_leak_hidden_inputs(attack):
    from nnlearn.exercises.compare import from_plain
    from nnlearn.grading.cases import draw, load_test_files

    assert _total(attack, "leak_type_name") == 3
    text = (attack["out"] / "feedback" / "leak_type_name.md").read_text()
    assert "raised an exception of a class defined in your code" in text
    os.environ.setdefault("NNLEARN_EXERCISE_SPECS", str(FIXTURES / "specs"))
    hidden = draw("toy.add_one", SEED, *load_test_files(FIXTURES / "hidden"))
    values = [repr(v) for case in from_plain(hidden.plain) for v in case["x"].ravel().tolist()]
    values = [v for v in values if len(v) > 8]
    assert values
    for path in (attack["out"] / "feedback").glob("*.md"):
        assert not [v for v in values if v in path.read_text()], path
    assert not [v for v in values if v in (attack["out"] / "grades.csv").read_text()]


def test_reports_carry_no_control_characters_or_formulas(attack):
    raw = (attack["out"] / "grades.csv").read_bytes()
    assert not [b for b in raw if b < 32 and b not in (10,)]
    stderr = attack["done"].stderr
    assert b"\x1b" not in stderr and b"\x07" not in stderr and b"\r" not in stderr
    with open(attack["out"] / "grades.csv", newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            assert not [field for field in row if field.startswith(("=", "+", "-", "@"))], row
    assert attack["rows"]["=HYPERLINK(1)"]["submission"].startswith("/")  # a path, not a formula
    feedback = (attack["out"] / "feedback" / "control_chars.md").read_text()
    assert "\x1b" not in feedback and "\x07" not in feedback and "\r" not in feedback


@pytest.mark.parametrize("name", ["ref_import_module", "ref_sys_modules", "ref_globals",
                                  "ref_builtins", "ref_exec_base64", "ref_pickle", "ref_magic"])
def test_roundabout_reference_use_fails_and_is_flagged_for_review(attack, name):
    """The sandbox has no specs, so every route to the registry's reference finds nothing;
    the attempt is flagged all the same."""
    row = attack["rows"][name]
    assert _total(attack, name) <= _total(attack, "wrong"), row
    assert "review: solution cell add_one (" in row["status"], row
    text = (attack["out"] / "feedback" / f"{name}.md").read_text()
    assert "review" not in text  # the reason is the instructor's, not the student's
