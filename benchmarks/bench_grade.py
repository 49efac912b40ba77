"""Benchmark ``nnlearn grade``: a class of 40 submissions of one lesson, on N cores.

    python benchmarks/bench_grade.py [--assignment 03_backprop] [--n 40] [--jobs 2]
    python benchmarks/bench_grade.py --assignment 02_activations --n 40 --compare-sandbox 3

The class is a mix a real one might hand in: copies of the solution notebook
(correct answers), untouched exercise notebooks, and one of each broken kind
(invalid JSON, empty file, syntax error, deleted exercise cell, ``os._exit``,
a memory hog, 10 MB of prints, an infinite loop). The script times the whole
``nnlearn grade`` command (worker start-up, the reference run, every kernel,
gradebook and feedback) and prints the seconds.

``--compare-sandbox R`` measures what the bubblewrap sandbox costs: R rounds,
each grading the same class (correct and untouched notebooks only, so that the
constant 30 s of the looping one does not dilute the difference) with and
without ``--no-sandbox``, in alternating order; it prints the median times and
the median of the per-round ratios (a shared machine swings too much for
anything but paired, interleaved runs).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _replace(nb, function: str, source: str) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == function:
            cell.source = source
    return nb


def make_class(solution, exercise, function: str, n: int, directory: Path,
               broken_kinds: bool = True) -> None:
    """Write ``n`` submissions: correct, untouched and (``broken_kinds``) one of each
    broken kind."""
    deleted = _replace(exercise, function, "")
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") != function]
    broken = {
        "invalid_json": b'{"cells": [',
        "empty": b"",
        "syntax_error": _replace(exercise, function, f"def {function}(**kwargs)\n    pass"),
        "deleted_cell": deleted,
        "os_exit": _replace(solution, function, "import os\nos._exit(1)"),
        "memory_hog": _replace(solution, function, "hog = bytearray(64 * 2**30)"),
        "print_flood": _replace(solution, function, "print('x' * 10_000_000)"),
        "infinite_loop": _replace(solution, function, "while True:\n    pass"),
    }
    if not broken_kinds:
        broken = {}
    untouched = max(0, (n - len(broken)) // 4)
    for i in range(n):
        if i < len(broken):
            name, nb = list(broken.items())[i]
        elif i < len(broken) + untouched:
            name, nb = f"untouched_{i:02d}", exercise
        else:
            name, nb = f"student_{i:02d}", solution
        data = nb if isinstance(nb, bytes) else nbformat.writes(nb).encode()
        (directory / f"{name}.ipynb").write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="03_backprop")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout-cell", default="30")
    parser.add_argument("--compare-sandbox", type=int, default=0, metavar="R",
                        help="R interleaved rounds with and without the sandbox")
    args = parser.parse_args()

    from nnlearn.exercises.generate import make_exercise_notebook
    from nnlearn.grading.notebook import graded_exercises, student_template

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        solutions, sub = tmp / "solutions", tmp / "class"
        solutions.mkdir()
        sub.mkdir()
        solution = nbformat.read(str(ROOT / "solutions" / f"{args.assignment}.ipynb"),
                                 as_version=4)
        nbformat.write(solution, str(solutions / f"{args.assignment}.ipynb"))
        exercise = make_exercise_notebook(solution, args.assignment)
        function = graded_exercises(student_template(solution))[0].function
        make_class(solution, exercise, function, args.n, sub, not args.compare_sandbox)
        command = [sys.executable, "-m", "nnlearn.cli", "grade", str(sub),
                   "--solutions", str(solutions), "--out", str(tmp / "grades.csv"),
                   "--feedback", str(tmp / "feedback"), "--jobs", str(args.jobs),
                   "--timeout-cell", args.timeout_cell, "--seed", "1", "--quiet"]

        def timed(extra: list[str]) -> float:
            start = time.perf_counter()
            subprocess.run(command + extra, check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

        if args.compare_sandbox:
            times: dict[str, list[float]] = {"sandbox": [], "no-sandbox": []}
            for r in range(args.compare_sandbox):
                order = ["sandbox", "no-sandbox"] if r % 2 == 0 else ["no-sandbox", "sandbox"]
                for name in order:
                    times[name].append(timed([] if name == "sandbox" else ["--no-sandbox"]))
            for name, values in times.items():
                runs = " ".join(f"{v:.1f}" for v in values)
                print(f"{name:10s} median {statistics.median(values):.1f} s   runs: {runs}")
            ratio = statistics.median(a / b for a, b in zip(*times.values(), strict=True))
            print(f"{args.assignment}, {args.n} submissions, --jobs {args.jobs}: "
                  f"sandbox/no-sandbox = {ratio:.2f} (median of {args.compare_sandbox} rounds)")
            return
        seconds = timed([])
        with open(tmp / "grades.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    print(f"{args.assignment}, {len(rows)} submissions, --jobs {args.jobs}: "
          f"{seconds:.1f} s")


if __name__ == "__main__":
    main()
