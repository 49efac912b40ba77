"""``nnlearn grade``: grade a folder of submitted exercise notebooks.

    nnlearn grade SUBMISSION... [--out grades.csv] [--feedback DIR] [--feedback-format md|html]
                  [--jobs N] [--timeout-cell S] [--timeout-notebook S] [--memory MB]
                  [--assignment NAME] [--solutions DIR] [--tests DIR] [--seed N] [--quiet]
                  [--resume] [--no-sandbox]

Prints one line per finished submission (stderr) and a summary (stdout); writes
the gradebook and, with ``--feedback``, one feedback file per submission.
Exit status: 0 when every submission got a row (whatever its status); 2 when
the instructor's material or the arguments are unusable, or no sandbox is
available (nothing is written); 130 when interrupted (Ctrl-C, SIGTERM): every
kernel is killed and the gradebook of what finished is written, the rest marked
"not graded: interrupted", which ``--resume`` then grades.

Each kernel runs in a bubblewrap sandbox (:mod:`nnlearn.grading.isolation`);
``--no-sandbox`` grades without one (macOS, Windows, no bwrap) and says
"not isolated" in every status.

The seed of the hidden tests is random unless ``--seed`` is given; it is
printed in the summary so a run can be reproduced.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
import warnings
from pathlib import Path

import nnlearn


def default_solutions() -> Path:
    """The course's ``solutions/`` directory (next to the ``nnlearn`` package)."""
    return Path(nnlearn.__file__).resolve().parents[1] / "solutions"


def _number(name: str, kind: type, minimum: float):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"The '{name}' parameter must be {'an int' if kind is int else 'a number'} "
                f">= {minimum:g}. Got {text!r} instead."
            )
        return value

    return parse


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``grade`` subcommand's arguments."""
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help="notebooks, or directories meaning every .ipynb in them")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="gradebook CSV to write (default: grades.csv)")
    parser.add_argument("--feedback", type=Path, metavar="DIR",
                        help="write <DIR>/<submission>.md feedback for each student")
    parser.add_argument("--feedback-format", choices=("md", "html"), default="md")
    parser.add_argument("--jobs", type=_number("--jobs", int, 1), default=os.cpu_count() or 1,
                        help="submissions graded in parallel (default: number of cores)")
    parser.add_argument("--timeout-cell", type=_number("--timeout-cell", float, 1), default=60.0,
                        metavar="S", help="seconds per cell (default: 60)")
    parser.add_argument("--timeout-notebook", type=_number("--timeout-notebook", float, 1),
                        default=600.0, metavar="S",
                        help="seconds per submission, restarts included (default: 600)")
    parser.add_argument("--memory", type=_number("--memory", int, 256), default=4096,
                        metavar="MB", help="address-space limit of each kernel (default: 4096)")
    parser.add_argument("--assignment", help="assignment of every submission (default: from "
                        "each notebook's metadata)")
    parser.add_argument("--solutions", type=Path, metavar="DIR",
                        help="solution notebooks giving the reference outputs "
                        "(default: the course's solutions/)")
    parser.add_argument("--tests", type=Path, metavar="DIR",
                        help="instructor's extra hidden tests (*.py defining HIDDEN_TESTS)")
    parser.add_argument("--seed", type=_number("--seed", int, 0),
                        help="seed of the hidden test inputs (default: random, printed)")
    parser.add_argument("--quiet", action="store_true", help="no per-submission lines")
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows already in --out and grade only the missing or "
                        "interrupted ones")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without the bubblewrap sandbox (NOT isolated: only for "
                        "trusted notebooks, or where bwrap does not exist)")


def run(args: argparse.Namespace) -> int:
    """Grade, write the gradebook and feedback, print progress and a summary."""
    from nnlearn.exercises.registry import PUBLIC_SEED
    from nnlearn.grading.batch import INTERRUPTED, Interrupted, Options, find_submissions, grade
    from nnlearn.grading.report import (
        progress_line,
        read_gradebook,
        summary,
        write_feedback,
        write_gradebook,
    )
    from nnlearn.grading.sandbox import Limits
    from nnlearn.grading.scoring import GradingSetupError

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    if seed == PUBLIC_SEED:
        warnings.warn(f"--seed {seed} is the public seed: hidden tests equal the published ones.",
                      stacklevel=1)
    try:
        submissions = find_submissions(args.submissions)
    except FileNotFoundError as error:
        print(f"nnlearn grade: {error}", file=sys.stderr)
        return 2
    if args.out.is_dir():
        print(f"nnlearn grade: the '--out' parameter must be a CSV file path. Got {str(args.out)!r}, "
              "which is a directory.", file=sys.stderr)
        return 2
    kept = []
    if args.resume:
        kept = [r for r in read_gradebook(args.out)
                if not r.get("status", "").startswith(INTERRUPTED)]
        done = {r["submission"] for r in kept}
        submissions = [p for p in submissions if str(p) not in done]
        print(f"nnlearn grade: --resume: {len(kept)} row(s) kept, {len(submissions)} to grade.",
              file=sys.stderr)
    if not submissions and not kept:
        print("nnlearn grade: no .ipynb files found in the given SUBMISSION arguments.",
              file=sys.stderr)
        return 2
    protect = [args.out.resolve()] + ([args.feedback.resolve()] if args.feedback else [])
    options = Options(
        solutions=(args.solutions or default_solutions()).resolve(),
        tests=args.tests.resolve() if args.tests else None,
        assignment=args.assignment,
        seed=seed,
        jobs=args.jobs,
        limits=Limits(args.timeout_cell, args.timeout_notebook, args.memory),
        protect=tuple(protect),
        isolated=not args.no_sandbox,
    )

    def progress(done, total, result):
        if not args.quiet:
            print(progress_line(done, total, result), file=sys.stderr, flush=True)

    start = time.monotonic()
    previous = signal.signal(signal.SIGTERM, _interrupt)  # clean up kernels on SIGTERM too
    status = 0
    try:
        results = grade(submissions, options, progress) if submissions else []
    except GradingSetupError as error:
        print(f"nnlearn grade: {error}", file=sys.stderr)
        return 2
    except Interrupted as stopped:
        results, status = stopped.results, 130
    except KeyboardInterrupt:  # before any kernel started: nothing to write
        print("nnlearn grade: interrupted before grading started; nothing written.",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    # Writing takes a moment; a second Ctrl-C must not lose the gradebook.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM,
                                                                           signal.SIG_IGN)
    try:
        written = write_gradebook(results, args.out, kept)
        if written != args.out:
            print(f"nnlearn grade: {args.out} is a directory now; gradebook written to {written}",
                  file=sys.stderr)
        if args.feedback:
            finished = [r for r in results if r.status != INTERRUPTED]
            write_feedback(finished, args.feedback, args.feedback_format)
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
    if status:
        left = sum(r.status == INTERRUPTED for r in results)
        print(f"nnlearn grade: interrupted; gradebook written with {left} submission(s) "
              f"'{INTERRUPTED}' (grade them with --resume).", file=sys.stderr)
    print(summary(results, time.monotonic() - start, seed))
    return status
