"""Execute notebooks headless many times and report every run that hangs or fails.

A notebook cell that never finishes under headless execution (no browser, as in CI) must
not go unnoticed: this script runs each notebook ``--runs`` times with nbclient, a
per-cell timeout and quick mode, and prints one line per run and a summary::

    python benchmarks/soak_notebooks.py --runs 20 lessons/*.ipynb solutions/*.ipynb

It exits 1 if any run timed out or failed. Each line names the slowest cell: a cell
that took exactly ``--cell-timeout`` seconds and still passed is a lost wake-up that
``nnlearn.headless`` exists to cure (compare with ``--plain-nbclient``). It is a script, not a test: 20 runs of 16
notebooks take far longer than a test suite should.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from nnlearn.headless import notebook_client


def run_once(path: str, cell_timeout: int, plain: bool = False) -> tuple:
    """Execute ``path`` once: (path, seconds, "ok" or what went wrong, (slowest cell, its seconds))."""
    nb = nbformat.read(path, as_version=4)
    started: dict[int, float] = {}
    waited: dict[int, float] = {}  # cell index -> seconds the client waited for its reply

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply):
        waited[cell_index] = time.perf_counter() - started[cell_index]

    hooks = {"on_cell_start": on_cell_start, "on_cell_executed": on_cell_executed}
    if plain:  # nbclient's own kernel client, to show what nnlearn.headless cures
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(Path(path).parent)}}, **hooks)
    else:
        client = notebook_client(nb, Path(path).parent, cell_timeout, **hooks)
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except CellTimeoutError:
        running = max(started)  # the last cell that started and never finished
        status = (f"HANG: a cell ran longer than {cell_timeout} s "
                  f"(cell {running}: {nb.cells[running].source.strip().splitlines()[0][:60]!r})")
    except (CellExecutionError, DeadKernelError) as error:
        status = f"FAILED: {str(error).strip().splitlines()[-1][:200]}"
    index = max(waited, key=waited.get, default=None)
    slowest = (None, 0.0) if index is None else (index, waited[index])
    return path, time.perf_counter() - start, status, slowest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cell-timeout", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--plain-nbclient", action="store_true",
                        help="use nbclient's own kernel client instead of nnlearn.headless's")
    args = parser.parse_args(argv)
    os.environ.setdefault("NNLEARN_QUICK", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `make test`: the jobs already fill the cores
    jobs = [(path, args.cell_timeout, args.plain_nbclient) for _ in range(args.runs) for path in args.notebooks]
    failures = stalls = 0
    with ProcessPoolExecutor(args.jobs) as pool:
        for path, seconds, status, (cell, waited) in pool.map(run_once, *zip(*jobs, strict=True)):
            failures += status != "ok"
            stalled = waited >= 0.95 * args.cell_timeout  # passed, but only when the timeout woke it
            stalls += stalled
            print(f"{path}: {seconds:6.1f} s  {status}  (slowest: cell {cell}, {waited:.1f} s"
                  f"{': a lost wake-up' if stalled else ''})", flush=True)
    print(f"{len(jobs) - failures} ok, {failures} hung or failed, {stalls} runs with a lost wake-up "
          f"({args.runs} runs of {len(args.notebooks)} notebooks, "
          f"{'plain nbclient' if args.plain_nbclient else 'nnlearn.headless'})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
