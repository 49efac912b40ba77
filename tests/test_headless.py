"""Headless notebook runs fail fast, naming the notebook and the cell, instead of hanging CI."""

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from queue import Empty

import nbformat
import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from nnlearn.headless import POLL_SECONDS, PollingChannel, PollingKernelManager, notebook_client

ROOT = Path(__file__).resolve().parents[1]


def test_the_test_command_sets_a_cell_timeout_under_a_minute():
    addopts = re.search(r"^addopts = (.*)$", (ROOT / "pyproject.toml").read_text(), re.M).group(1)
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


# -- nnlearn.headless: the nbclient path (nbconvert, the grader) never sleeps on a lost wake-up --


def _lossy_get_msg(message):
    """What the soak measured: the socket's wake-up is lost, so poll sleeps through its whole
    timeout, and only the final check at the end finds the message that was there all along."""
    async def get_msg(self, timeout=None):
        await asyncio.sleep(3600 if timeout is None else timeout)
        if message is None:
            raise Empty
        return message
    return get_msg


@pytest.mark.parametrize("timeout", [None, 30.0])
def test_polling_channel_gets_a_message_whose_wake_up_was_lost(monkeypatch, timeout):
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", _lossy_get_msg({"msg_type": "execute_reply"}))
    channel = PollingChannel.__new__(PollingChannel)  # no socket needed: the parent is replaced
    start = time.monotonic()
    message = asyncio.run(channel.get_msg(timeout=timeout))
    assert message["msg_type"] == "execute_reply"
    assert time.monotonic() - start < 2 * POLL_SECONDS + 0.5  # one slice, not the whole wait


def test_polling_channel_still_times_out_when_nothing_arrives(monkeypatch):
    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", _lossy_get_msg(None))
    channel = PollingChannel.__new__(PollingChannel)
    start = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(channel.get_msg(timeout=1.0))
    assert 0.9 < time.monotonic() - start < 2.0


def test_headless_notebooks_run_on_the_polling_client(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider()"),
                                         nbformat.v4.new_code_cell("print(6 * 7)")])
    seen = []
    client = notebook_client(nb, tmp_path, cell_timeout=60,
                             on_cell_start=lambda cell, cell_index: seen.append((client.km, client.kc)))
    client.execute()
    km, kc = seen[0]
    assert isinstance(km, PollingKernelManager) and isinstance(kc.shell_channel, PollingChannel)
    assert nb.cells[1].outputs[0]["text"] == "42\n"
