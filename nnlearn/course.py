"""``nnlearn course``: open the course in JupyterLab (or Notebook 7) from the repository root.

    nnlearn course [--app lab|notebook] [--lesson 01_perceptron] [JUPYTER_ARGUMENT ...]

Jupyter serves the directory it was started in. Started on ``lessons/01_perceptron.ipynb``
alone it would serve ``lessons/`` and hide ``exercises/`` and ``solutions/``, so this
command serves the repository root (``--ServerApp.root_dir``) and opens the lesson in it.
Any further arguments go to Jupyter unchanged (e.g. ``--no-browser --port 8890``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nnlearn


def course_root() -> Path:
    """The directory holding ``lessons/``, ``exercises/`` and ``solutions/`` (the repository)."""
    return Path(nnlearn.__file__).resolve().parents[1]


def jupyter_command(app: str = "lab", lesson: str = "01_perceptron",
                    extra: list[str] = ()) -> list[str]:
    """The command that serves :func:`course_root` with ``app`` and opens ``lessons/<lesson>.ipynb``."""
    root = course_root()
    notebook = root / "lessons" / f"{lesson}.ipynb"
    if not notebook.is_file():
        available = sorted(p.stem for p in (root / "lessons").glob("*.ipynb"))
        raise ValueError(f"The 'lesson' parameter of nnlearn course must be one of {available}. "
                         f"Got {lesson!r} instead.")
    command = [sys.executable, "-m", "jupyter", app, f"--ServerApp.root_dir={root}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")  # Jupyter refuses root (e.g. in a container) unless told
    return command + list(extra) + [str(notebook)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app", choices=("lab", "notebook"), default="lab",
                        help="JupyterLab (default) or the classic-style Notebook 7")
    parser.add_argument("--lesson", default="01_perceptron", help="the lesson to open first")


def run(args: argparse.Namespace, extra: list[str] = ()) -> int:
    command = jupyter_command(args.app, args.lesson, extra)
    os.chdir(course_root())
    if os.name == "nt":  # Windows has no exec: run Jupyter as a child and pass on its status
        import subprocess

        return subprocess.call(command)
    os.execv(command[0], command)
    return 0  # not reached
