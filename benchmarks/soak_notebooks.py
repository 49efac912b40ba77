"""Execute notebooks headless many times and report every run that hangs or fails.

A notebook cell that never finishes under headless execution (no browser, as in CI) must
not go unnoticed: this script runs each notebook ``--runs`` times with nbclient, a
per-cell timeout and quick mode, and prints one line per run and a summary::

    python benchmarks/soak_notebooks.py --runs 20 lessons/*.ipynb solutions/*.ipynb

It exits 1 if any run timed out or failed. It is a script, not a test: 20 runs of 16
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


def run_once(path: str, cell_timeout: int) -> tuple[str, float, str]:
    """Execute ``path`` once; return (path, seconds, "ok" or what went wrong)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    try:
        client.execute()
        status = "ok"
    except CellTimeoutError:
        status = f"HANG: a cell ran longer than {cell_timeout} s ({_current_cell(client)})"
    except (CellExecutionError, DeadKernelError) as error:
        status = f"FAILED: {str(error).strip().splitlines()[-1][:200]}"
    return path, time.perf_counter() - start, status


def _current_cell(client: NotebookClient) -> str:
    """The first cell without an execution count: the one that was running."""
    for index, cell in enumerate(client.nb.cells):
        if cell.cell_type == "code" and cell.get("execution_count") is None:
            return f"cell {index}: {cell.source.strip().splitlines()[0][:60]!r}"
    return "cell unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cell-timeout", type=int, default=120)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("NNLEARN_QUICK", "1")
    jobs = [(path, args.cell_timeout) for _ in range(args.runs) for path in args.notebooks]
    failures = 0
    with ProcessPoolExecutor(args.jobs) as pool:
        for path, seconds, status in pool.map(run_once, *zip(*jobs, strict=True)):
            failures += status != "ok"
            print(f"{path}: {seconds:6.1f} s  {status}", flush=True)
    print(f"{len(jobs) - failures} ok, {failures} hung or failed "
          f"({args.runs} runs of {len(args.notebooks)} notebooks, MPLBACKEND={os.environ.get('MPLBACKEND')})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
