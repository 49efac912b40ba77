"""Execute a notebook headless (no browser) without the occasional endless wait.

Why this exists
---------------
``nbclient`` (behind ``jupyter nbconvert --execute``, papermill and ``nnlearn
grade``) waits for the kernel's replies with asyncio on ZeroMQ sockets. A ZeroMQ
socket tells asyncio "something arrived" through a file descriptor that signals
*edges*, and now and then that signal is lost: the reply sits in the socket while
the client sleeps. Measured here on a notebook of 40 ipywidgets cells
(``benchmarks/soak_notebooks.py``): about one cell in 50 had its reply, sent by the
kernel within 0.2 s (its own timestamps say so), reach nbclient only when
nbclient's cell timeout (12 s in that test) ran out and its final check found the
message waiting in the socket. With
no timeout, nbclient's default, that cell waits forever with kernel and client
both idle, which is the "hang at the widget cell" (jupyter/nbclient#312). The
kernel is not at fault (ipykernel 6.31 and 7.4 behave the same), and nbval, which
the tests use, is not affected: its blocking client polls level-triggered.

The cure is to never sleep on one edge for long: :class:`PollingKernelClient`
waits in slices of ``POLL_SECONDS`` and looks at the socket again after each, so
a lost signal costs at most that slice. :func:`execute_notebook` runs a notebook
with it and with a per-cell timeout, so a cell that really hangs fails with its
index instead of blocking the caller.
"""

from __future__ import annotations

import time
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient
from traitlets import DottedObjectName, Type

POLL_SECONDS = 0.25


class PollingChannel(AsyncZMQSocketChannel):
    """A channel whose ``get_msg`` waits in short slices, so a lost wake-up costs one slice."""

    async def get_msg(self, timeout: float | None = None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await super().get_msg(timeout=min(POLL_SECONDS, left))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class PollingKernelClient(AsyncKernelClient):
    """nbclient's kernel client, with :class:`PollingChannel` for the shell and IOPub replies."""

    shell_channel_class = Type(PollingChannel)
    iopub_channel_class = Type(PollingChannel)
    control_channel_class = Type(PollingChannel)


class PollingKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, handing out :class:`PollingKernelClient` clients."""

    client_class = DottedObjectName("nnlearn.headless.PollingKernelClient")
    client_factory = Type(PollingKernelClient)


def notebook_client(nb: nbformat.NotebookNode, cwd: str | Path, cell_timeout: int = 120,
                    kernel_name: str = "python3", **kwargs) -> NotebookClient:
    """An ``nbclient.NotebookClient`` for ``nb``, run in ``cwd``, on a :class:`PollingKernelClient`."""
    return NotebookClient(nb, timeout=cell_timeout, kernel_name=kernel_name,
                          kernel_manager_class=PollingKernelManager,
                          resources={"metadata": {"path": str(cwd)}}, **kwargs)


def execute_notebook(path: str | Path, cell_timeout: int = 120, **kwargs) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` (in its own directory) and return it with its outputs.

    Raises nbclient's ``CellExecutionError`` for a failing cell and
    ``CellTimeoutError`` for a cell that runs longer than ``cell_timeout`` seconds.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    notebook_client(nb, path.parent, cell_timeout, **kwargs).execute()
    return nb
