"""``nnlearn grade`` options that need their own run: the whole-notebook time budget,
``--assignment``, HTML feedback, a random seed, a broken reference solution, and
stopping a run with Ctrl-C / SIGTERM."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from nnlearn.grading.isolation import unavailable

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
pytestmark = pytest.mark.skipif(bool(unavailable()), reason=f"no sandbox: {unavailable()}")
SOLUTION = FIXTURES / "solutions" / "00_toy.ipynb"
ENV = {**os.environ, "NNLEARN_EXERCISE_SPECS": str(FIXTURES / "specs")}
SLOW = "import time\ntime.sleep(6)\n"


def _grade(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "nnlearn.cli", "grade", *args, "--jobs", "2"]
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300)


def _solution_with(**sources: str) -> nbformat.NotebookNode:
    nb = nbformat.read(str(SOLUTION), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources and cell.metadata["nbgrader"]["solution"]:
            cell.source = sources[grade_id] + cell.source
    return nb


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("options")
    sub = root / "sub"
    sub.mkdir()
    nbformat.write(_solution_with(add_one=SLOW, square=SLOW), str(sub / "slow.ipynb"))
    nometa = nbformat.read(str(SOLUTION), as_version=4)
    del nometa.metadata["nnlearn"]
    nbformat.write(nometa, str(sub / "alice.ipynb"))
    done = _grade(str(sub), "--solutions", str(FIXTURES / "solutions"), "--assignment", "00_toy",
                  "--timeout-cell", "8", "--timeout-notebook", "10", "--out", str(root / "g.csv"),
                  "--feedback", str(root / "fb"), "--feedback-format", "html")
    with open(root / "g.csv", newline="") as f:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    return done, rows, root


def test_notebook_time_limit(run):
    done, rows, _ = run
    assert done.returncode == 0, done.stderr
    assert rows["slow"]["status"] == "notebook time limit (10 s) reached in cell 7 (square)"
    # add_one had finished before the budget ran out: it keeps its credit
    assert (rows["slow"]["check_add_one"], rows["slow"]["check_square"]) == ("2", "0")


def test_assignment_option_grades_notebooks_without_metadata(run):
    _, rows, _ = run
    assert (rows["alice"]["assignment"], rows["alice"]["total"], rows["alice"]["status"]) == (
        "00_toy", "5", "ok")


def test_html_feedback_and_random_seed(run):
    done, _, root = run
    assert sorted(p.name for p in (root / "fb").iterdir()) == ["alice.html", "slow.html"]
    assert "<h2>square: 3 / 3 points</h2>" in (root / "fb" / "alice.html").read_text()
    assert "(seed " in done.stdout


def test_without_metadata_or_option_the_assignment_is_unknown(tmp_path):
    nb = nbformat.read(str(SOLUTION), as_version=4)
    del nb.metadata["nnlearn"]
    nbformat.write(nb, str(tmp_path / "bob.ipynb"))
    nbformat.write(nb, str(tmp_path / "bob_00_toy.ipynb"))  # a known name in the file name
    done = _grade(str(tmp_path), "--solutions", str(FIXTURES / "solutions"),
                  "--out", str(tmp_path / "g.csv"))
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "g.csv", newline="") as f:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    assert rows["bob"]["status"].startswith("unknown assignment")
    assert (rows["bob_00_toy"]["total"], rows["bob_00_toy"]["status"]) == ("5", "ok")


def test_broken_reference_solution_stops_with_exit_2(tmp_path):
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    broken = _solution_with(square="import numpy as np\nnp.multiply = None\n")
    nbformat.write(broken, str(solutions / "00_toy.ipynb"))
    nbformat.write(nbformat.read(str(SOLUTION), as_version=4), str(tmp_path / "s.ipynb"))
    done = _grade(str(tmp_path / "s.ipynb"), "--solutions", str(solutions),
                  "--out", str(tmp_path / "g.csv"))
    assert done.returncode == 2
    assert "reference solution" in done.stderr
    assert not (tmp_path / "g.csv").exists()


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_writes_the_gradebook_and_kills_the_kernels(tmp_path, signum):
    nb = _solution_with(add_one="while True:\n    pass\n")
    for i in range(3):
        nbformat.write(nb, str(tmp_path / f"loop{i}.ipynb"))
    command = [sys.executable, "-m", "nnlearn.cli", "grade", str(tmp_path), "--jobs", "2",
               "--solutions", str(FIXTURES / "solutions"), "--out", str(tmp_path / "g.csv")]
    private = tmp_path / "tmp"
    private.mkdir()
    child = subprocess.Popen(command, env={**ENV, "TMPDIR": str(private)},
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    kernels: set[int] = set()
    while len(kernels) < 2 and time.monotonic() < deadline:  # both workers run a kernel
        time.sleep(0.5)
        family = _descendants(child.pid)
        kernels = {p for p in family if b"ipykernel_launcher" in _cmdline(p)}
    family = _descendants(child.pid)
    child.send_signal(signum)
    start = time.monotonic()
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert time.monotonic() - start < 10
    assert "interrupted" in err
    with open(tmp_path / "g.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["status"] for r in rows] == ["not graded: interrupted"] * 3
    time.sleep(0.5)
    assert kernels and not [p for p in family if _alive(p)]
    assert list(private.iterdir()) == []  # the grader's private files are gone


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_no_kernel_survives_a_killed_grader(tmp_path):
    """SIGKILL leaves no chance to clean up: the workers get SIGTERM from the kernel
    (PR_SET_PDEATHSIG) and kill their kernels; the sandboxes die with their worker."""
    nb = _solution_with(add_one="while True:\n    pass\n")
    for i in range(2):
        nbformat.write(nb, str(tmp_path / f"loop{i}.ipynb"))
    command = [sys.executable, "-m", "nnlearn.cli", "grade", str(tmp_path), "--jobs", "2",
               "--solutions", str(FIXTURES / "solutions"), "--out", str(tmp_path / "g.csv")]
    child = subprocess.Popen(command, env=ENV, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    kernels: set[int] = set()
    while len(kernels) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        kernels = {p for p in _descendants(child.pid) if b"ipykernel_launcher" in _cmdline(p)}
    family = _descendants(child.pid)
    child.kill()
    child.wait(timeout=10)
    deadline = time.monotonic() + 10
    while [p for p in family if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kernels and not [p for p in family if _alive(p)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# -- a batch that nothing breaks (without the sandbox, where a kernel can reach its worker) --


def _kills_worker(signum: int) -> nbformat.NotebookNode:
    return _solution_with(add_one=f"import os\nos.kill(os.getppid(), {int(signum)})\n")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    sub = root / "sub"
    sub.mkdir()
    nbformat.write(nbformat.read(str(SOLUTION), as_version=4), str(sub / "good.ipynb"))
    for signum in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
        nbformat.write(_kills_worker(signum), str(sub / f"{signum.name}.ipynb"))
    command = [str(sub), "--solutions", str(FIXTURES / "solutions"), "--no-sandbox",
               "--timeout-cell", "5", "--timeout-notebook", "5", "--out", str(root / "g.csv")]
    start = time.monotonic()
    done = _grade(*command)
    seconds = time.monotonic() - start
    with open(root / "g.csv", newline="") as f:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    return done, rows, root, command, seconds


def test_a_dead_or_stopped_worker_costs_only_its_submission(hostile):
    done, rows, _, _, seconds = hostile
    assert done.returncode == 0, done.stderr
    assert (rows["good"]["total"], rows["good"]["status"]) == ("5", "not isolated")
    for name in ("SIGKILL", "SIGTERM"):
        assert rows[name]["status"].startswith("grader error: the grader's worker process died "
                                               "twice"), rows[name]
    assert rows["SIGSTOP"]["status"].startswith("grader error: grading took longer than 30 s")
    assert all(rows[n]["total"] == "0" for n in ("SIGKILL", "SIGTERM", "SIGSTOP"))
    assert "NOT ISOLATED" in done.stdout
    print(f"hostile batch graded in {seconds:.1f} s")


def test_resume_grades_only_the_missing_rows(hostile):
    done, rows, root, command, _ = hostile
    path = root / "g.csv"
    lines = path.read_text().splitlines()
    kept = [line for line in lines if "good.ipynb" not in line]
    interrupted = next(line for line in lines if "good.ipynb" in line)
    path.write_text("\n".join(kept + [interrupted.split(",")[0] + ",,,,,,not graded: "
                                      "interrupted"]) + "\n")
    again = _grade(*command, "--resume")
    assert again.returncode == 0, again.stderr
    assert "--resume: 3 row(s) kept, 1 to grade" in again.stderr
    with open(path, newline="") as f:
        after = {Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    assert after["good"]["total"] == "5"
    assert {n: after[n]["status"] for n in after} == {n: rows[n]["status"] for n in rows}
