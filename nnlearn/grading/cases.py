"""Hidden test inputs, drawn at grading time from the instructor's seed.

For each exercise the grader draws cases from

1. the registry spec's ``make_cases(rng)`` (``nnlearn.exercises.registry``), and
2. every instructor test file in ``--tests DIR`` that lists the exercise.

Each source gets its own generator ``default_rng([seed, crc32(exercise_id), k])``:
the same seed gives the same cases on any machine (``crc32``, unlike ``hash``,
is not salted per process), different exercises get independent streams, and
since the public checks use ``PUBLIC_SEED`` a student who hard-codes the
published outputs matches no hidden case.

Instructor test files
---------------------
Any ``*.py`` file in ``--tests DIR`` (files starting with ``_`` are skipped) may
define::

    HIDDEN_TESTS = {"backprop.dense_backward": make_cases}   # make_cases(rng) -> list[dict]
    TOLERANCES = {"backprop.dense_backward": {"rtol": 1e-6, "atol": 1e-9}}   # optional

The files run in the grader's process (they are the instructor's code), never
in a student kernel, and the directory is on the kernel's deny list.
"""

from __future__ import annotations

import importlib.util
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnlearn.exercises import registry
from nnlearn.exercises.compare import from_plain, to_plain
from nnlearn.exercises.public import PublicTests

DEFAULT_RTOL, DEFAULT_ATOL = 1e-5, 1e-7


@dataclass
class HiddenTests:
    """The hidden cases of one exercise and how to judge them.

    ``plain`` is ``to_plain(cases)``: what the kernel receives. ``title`` and
    ``hint`` are the registry's public texts, used in feedback. ``forbid_warnings``:
    a case on which the student's function issues a warning fails.
    """

    exercise_id: str
    plain: dict[str, np.ndarray]
    n_cases: int
    rtol: float
    atol: float
    output_names: tuple[str, ...]
    title: str
    hint: str
    forbid_warnings: bool = False


def load_test_files(directory: Path | None) -> tuple[dict[str, list[Callable]], dict[str, dict]]:
    """Collect ``HIDDEN_TESTS`` and ``TOLERANCES`` from the ``*.py`` files of ``directory``."""
    makers: dict[str, list[Callable]] = {}
    tolerances: dict[str, dict] = {}
    if directory is None:
        return makers, tolerances
    for path in sorted(Path(directory).glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"_nnlearn_hidden_tests_{zlib.crc32(str(path.resolve()).encode())}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        tests = getattr(module, "HIDDEN_TESTS", {})
        if not isinstance(tests, dict) or not all(callable(f) for f in tests.values()):
            raise TypeError(
                f"HIDDEN_TESTS in {path} must be a dict {{exercise id: make_cases(rng)}}. "
                f"Got {type(tests).__name__} instead."
            )
        for exercise_id, make_cases in tests.items():
            makers.setdefault(exercise_id, []).append(make_cases)
        tolerances.update(getattr(module, "TOLERANCES", {}))
    return makers, tolerances


def _rng(seed: int, exercise_id: str, source: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(exercise_id.encode()), source])


def _spec(exercise_id: str) -> registry.Exercise | None:
    try:
        return registry.get_exercise(exercise_id)
    except KeyError:
        return None


def public(exercise_id: str) -> PublicTests | None:
    """The public tests of ``exercise_id``, for the kernel's check cells (which have no
    specs in the sandbox); None if the registry does not know it.

    Raises
    ------
    ValueError
        If the reference fails on a public case or a case is not plain data.
    """
    spec = _spec(exercise_id)
    if spec is None:
        return None
    try:
        tests = PublicTests.from_exercise(spec)
        tests.to_plain()  # plain data, or TypeError now rather than in a worker
        return tests
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"Public tests of {exercise_id!r}: {error}") from None


def draw(
    exercise_id: str,
    seed: int,
    extra: dict[str, list[Callable]],
    tolerances: dict[str, dict],
) -> HiddenTests:
    """Draw the hidden cases of ``exercise_id`` from ``seed``.

    Raises
    ------
    ValueError
        If no source provides cases, or a case cannot be sent as plain data.
    """
    spec = _spec(exercise_id)
    cases: list[dict[str, Any]] = []
    if spec is not None:
        cases += spec.cases(_rng(seed, exercise_id, 0))
    for k, make_cases in enumerate(extra.get(exercise_id, []), start=1):
        drawn = make_cases(_rng(seed, exercise_id, k))
        if not isinstance(drawn, list) or not all(isinstance(c, dict) for c in drawn):
            raise TypeError(
                f"make_cases for {exercise_id!r} in --tests must return a list of dicts. "
                f"Got {type(drawn).__name__} instead."
            )
        cases += drawn
    if not cases:
        raise ValueError(
            f"No hidden tests for exercise {exercise_id!r}: it is not in the registry and no "
            "file in --tests lists it in HIDDEN_TESTS."
        )
    try:
        plain = to_plain(cases)
        from_plain(plain)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Hidden cases of {exercise_id!r} are not plain data: {error}") from None
    tol = tolerances.get(exercise_id, {})
    return HiddenTests(
        exercise_id=exercise_id,
        plain=plain,
        n_cases=len(cases),
        rtol=float(tol.get("rtol", spec.rtol if spec else DEFAULT_RTOL)),
        atol=float(tol.get("atol", spec.atol if spec else DEFAULT_ATOL)),
        output_names=tuple(spec.output_names) if spec else (),
        title=spec.title if spec else exercise_id,
        hint=spec.hint if spec else "",
        forbid_warnings=spec.forbid_warnings if spec else False,
    )
