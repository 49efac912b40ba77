"""The exercise registry: one :class:`Exercise` spec per graded function.

A spec says how to test a student's function without containing its solution
in the notebook: ``make_cases(rng)`` draws keyword arguments, ``reference``
computes the expected outputs, and the outputs are compared with
:func:`nnlearn.exercises.compare.compare`.

* Public checks (``check()`` in the notebook) use ``make_cases(default_rng(PUBLIC_SEED))``.
* The instructor's grader draws hidden cases from its own ``--seed``.

Spec modules live in ``nnlearn/exercises/specs/<topic>.py`` and call
:func:`register` at import time. They are imported on demand: looking up
``"backprop.dense_backward"`` imports ``specs/backprop.py``. Extra spec
directories (an instructor's own exercises, the test fixtures) can be listed in
the environment variable ``NNLEARN_EXERCISE_SPECS`` (separated by ``os.pathsep``);
their ``<topic>.py`` files are loaded the same way.

Names: assignment = notebook stem ``"03_backprop"``; lesson number = 3;
topic = ``"backprop"``; exercise id = ``"<topic>.<function>"``.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PUBLIC_SEED = 2024
"""Seed of the public cases: ``make_cases(np.random.default_rng(PUBLIC_SEED))``."""

SPECS_ENV = "NNLEARN_EXERCISE_SPECS"
"""Environment variable listing extra spec directories (``os.pathsep``-separated)."""

_ID_RE = re.compile(r"[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT_RE = re.compile(r"(\d+)_([a-z][a-z0-9_]*)")


@dataclass(frozen=True)
class Exercise:
    """How to test one function a student writes.

    Parameters
    ----------
    id : str
        ``"<topic>.<function>"``, e.g. ``"backprop.dense_backward"``; the first
        argument of ``check()`` in the notebook.
    title : str
        One-line task ("compute dx, dw and db of a dense layer"); shown in the
        stub's ``NotImplementedError`` and in feedback.
    make_cases : callable
        ``make_cases(rng) -> list[dict]``: one dict of keyword arguments per
        test case, drawn from the ``np.random.Generator`` it is given (and only
        from it, so a seed reproduces the cases).
    reference : callable
        The reference implementation; ``reference(**case)`` gives the expected output.
    rtol, atol : float
        Tolerances for floating-point outputs (``np.isclose`` semantics).
    hint : str
        Shown when the student's output is wrong.
    output_names : tuple of str
        Optional names of the items of a tuple output, e.g. ``("dx", "dw", "db")``;
        feedback then says "dw: shape ..." instead of "output[1]: shape ...".
    forbid_warnings : bool
        For exercises about numerical stability: a case on which the student's
        code issues a warning (e.g. "overflow encountered in exp") fails even if
        the values are right, because a stable implementation issues none; in the
        public ``check()`` and in the grader's hidden tests alike.
    """

    id: str
    title: str
    make_cases: Callable[[np.random.Generator], list[dict[str, Any]]]
    reference: Callable[..., Any]
    rtol: float = 1e-5
    atol: float = 1e-7
    hint: str = ""
    output_names: tuple[str, ...] = ()
    forbid_warnings: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_RE.fullmatch(self.id):
            raise ValueError(
                "The 'id' parameter of Exercise must look like '<topic>.<function>' "
                f"(e.g. 'backprop.dense_backward'). Got {self.id!r} instead."
            )
        if not isinstance(self.title, str) or not self.title.strip() or "\n" in self.title:
            raise ValueError(
                f"The 'title' parameter of Exercise {self.id} must be a non-empty single line. "
                f"Got {self.title!r} instead."
            )
        for name in ("make_cases", "reference"):
            if not callable(getattr(self, name)):
                raise TypeError(
                    f"The {name!r} parameter of Exercise {self.id} must be callable. "
                    f"Got {type(getattr(self, name)).__name__} instead."
                )
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"The {name!r} parameter of Exercise {self.id} must be a float >= 0. "
                    f"Got {value!r} instead."
                )

    @property
    def topic(self) -> str:
        """The lesson topic, e.g. ``"backprop"``."""
        return self.id.split(".")[0]

    def cases(self, seed: int | np.random.Generator = PUBLIC_SEED) -> list[dict[str, Any]]:
        """The test cases drawn from ``seed`` (default: the public cases)."""
        cases = self.make_cases(np.random.default_rng(seed))
        if not isinstance(cases, list) or not cases or not all(isinstance(c, dict) for c in cases):
            raise TypeError(
                f"make_cases of exercise {self.id} must return a non-empty list of dicts "
                f"(keyword arguments). Got {type(cases).__name__} instead."
            )
        return cases

    @property
    def function(self) -> str:
        """The name the student defines in the notebook: the part of the id after the dot."""
        return self.id.split(".")[1]


# -- assignment names ------------------------------------------------------------------------


def split_assignment(assignment: str) -> tuple[int, str]:
    """``"03_backprop"`` -> ``(3, "backprop")``."""
    match = _ASSIGNMENT_RE.fullmatch(assignment)
    if match is None:
        raise ValueError(
            "An assignment name must be '<number>_<topic>' like '03_backprop' "
            f"(the notebook's file name without .ipynb). Got {assignment!r} instead."
        )
    return int(match.group(1)), match.group(2)


# -- the registry ----------------------------------------------------------------------------

_EXERCISES: dict[str, Exercise] = {}
_LOADED: set[str] = set()  # spec modules (builtin names or extra file paths) already loaded


def register(*exercises: Exercise) -> None:
    """Add exercise specs to the registry (called by spec modules at import time).

    Re-registering an id from the same module (a reloaded module) replaces it;
    registering an id that another module already registered is an error.
    """
    for exercise in exercises:
        if not isinstance(exercise, Exercise):
            raise TypeError(f"register() takes Exercise objects. Got {type(exercise).__name__}.")
        old = _EXERCISES.get(exercise.id)
        if old is not None and old.make_cases.__module__ != exercise.make_cases.__module__:
            raise ValueError(
                f"Exercise {exercise.id!r} is already registered by module "
                f"{old.make_cases.__module__!r}."
            )
        _EXERCISES[exercise.id] = exercise


def _extra_dirs() -> list[Path]:
    return [Path(p) for p in os.environ.get(SPECS_ENV, "").split(os.pathsep) if p.strip()]


def _load_file(path: Path) -> None:
    key = str(path.resolve())
    if key in _LOADED:
        return
    _LOADED.add(key)
    name = f"_nnlearn_exercise_specs_{abs(hash(key))}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def _load_builtin(name: str) -> None:
    if name in _LOADED:
        return
    _LOADED.add(name)
    module = importlib.import_module(f"nnlearn.exercises.specs.{name}")
    if not any(e.make_cases.__module__ == module.__name__ for e in _EXERCISES.values()):
        # The module was imported before (e.g. outside an isolated() block): re-run it.
        importlib.reload(module)


def _builtin_topics() -> list[str]:
    from nnlearn.exercises import specs

    return sorted(m.name for m in pkgutil.iter_modules(specs.__path__) if not m.ispkg)


def _load_topic(topic: str) -> None:
    if topic in _builtin_topics():
        _load_builtin(topic)
    for directory in _extra_dirs():
        if (directory / f"{topic}.py").is_file():
            _load_file(directory / f"{topic}.py")


def discover() -> list[Exercise]:
    """Import every spec module (built-in and extra) and return all exercises."""
    for topic in _builtin_topics():
        _load_builtin(topic)
    for directory in _extra_dirs():
        for path in sorted(directory.glob("*.py")):
            if not path.name.startswith("_"):
                _load_file(path)
    return list(_EXERCISES.values())


def get_exercise(exercise_id: str) -> Exercise:
    """The spec registered under ``exercise_id`` (e.g. ``"backprop.dense_backward"``)."""
    if exercise_id not in _EXERCISES and isinstance(exercise_id, str):
        _load_topic(exercise_id.split(".")[0])
    if exercise_id not in _EXERCISES:
        known = [e.id for e in discover()]
        close = difflib.get_close_matches(str(exercise_id), known, n=3)
        suggestion = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"No exercise is registered under {exercise_id!r}.{suggestion}")
    return _EXERCISES[exercise_id]


def exercises_for(assignment: str) -> list[Exercise]:
    """The exercises of an assignment (``"03_backprop"`` or topic ``"backprop"``), in
    registration order (spec modules register them in notebook order)."""
    topic = split_assignment(assignment)[1] if assignment[:1].isdigit() else assignment
    _load_topic(topic)
    return [e for e in _EXERCISES.values() if e.topic == topic]


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Register exercises temporarily (for tests): the registry is restored on exit.

    The built-in specs are loaded first (they belong in the real registry);
    anything registered or loaded from ``NNLEARN_EXERCISE_SPECS`` inside the
    block is forgotten afterwards.
    """
    for topic in _builtin_topics():
        _load_builtin(topic)
    saved_exercises, saved_loaded = dict(_EXERCISES), set(_LOADED)
    try:
        yield
    finally:
        _EXERCISES.clear()
        _EXERCISES.update(saved_exercises)
        _LOADED.clear()
        _LOADED.update(saved_loaded)
