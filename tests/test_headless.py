"""Headless notebook runs fail fast, naming the notebook and the cell, instead of hanging CI."""

import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def test_the_test_command_sets_a_cell_timeout_under_a_minute():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    addopts = config["tool"]["pytest"]["ini_options"]["addopts"]
    match = re.search(r"--nbval-cell-timeout=(\d+)", addopts)
    assert match and int(match.group(1)) <= 50, addopts


def test_a_stuck_cell_fails_fast_with_notebook_and_cell_named(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(600)  # stands for a hung widget cell"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "stuck.ipynb"
    nbformat.write(nb, path)
    start = time.monotonic()
    # The project's own pytest options, with the cell timeout shortened to keep this test quick.
    run = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
                          "--rootdir", str(tmp_path), "--nbval-cell-timeout=3", "-p", "no:xdist", str(path)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert run.returncode == 1, run.stdout[-2000:]
    assert "stuck.ipynb::Cell 1" in run.stdout and "Timeout of 3 seconds exceeded" in run.stdout
    assert elapsed < 60
