"""The ``nnlearn`` command.

    nnlearn course [--app lab|notebook] open the course in Jupyter, served from the repository
    nnlearn make-exercises [--check]   generate exercises/ from solutions/
    nnlearn grade SUBMISSION ...        grade students' notebooks

Each subcommand lives in its own module, which provides ``add_arguments(parser)``
and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "course": ("nnlearn.course", "Open the course in JupyterLab or Notebook 7 (served from the repository)."),
    "make-exercises": ("nnlearn.exercises.generate", "Generate exercises/ from solutions/."),
    "grade": ("nnlearn.grading.cli", "Grade a folder of submitted exercise notebooks."),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nnlearn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(commands.add_parser(name, help=help_text, description=help_text))
        modules[name] = module
    args, extra = parser.parse_known_args(argv)
    if args.command == "course":
        return int(modules["course"].run(args, extra) or 0)  # the rest goes to Jupyter
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return int(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
