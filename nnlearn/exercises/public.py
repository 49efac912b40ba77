"""An exercise's public tests as plain data: what ``check()`` needs, without the reference.

``check("topic.function", function)`` compares the student's outputs on the public
cases (drawn from ``PUBLIC_SEED``) with the expected ones. On a student's laptop
:func:`public_tests` computes those from the registry: it draws the cases and runs
the spec's reference implementation.

When an instructor grades, the student's kernel runs in a sandbox without the
exercise specs, so no solution can call a reference implementation. The grader
computes the public tests in its own process (:meth:`PublicTests.from_exercise`),
writes them with :meth:`PublicTests.save` into the kernel's scratch directory,
and names that directory in the kernel's environment variable
``NNLEARN_PUBLIC_TESTS``. :func:`public_tests` then reads ``<exercise id>.npz``
from it (``allow_pickle=False``) and never touches the registry. The check cells
print exactly what they print on the student's laptop.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from nnlearn.exercises.compare import from_plain, to_plain
from nnlearn.exercises.registry import PUBLIC_SEED, Exercise, get_exercise

PUBLIC_TESTS_ENV = "NNLEARN_PUBLIC_TESTS"
"""Environment variable naming a directory of ``<exercise id>.npz`` public tests."""


def call(function: Callable[..., Any], case: dict[str, Any]) -> Any:
    """``function(**case)`` on a deep copy of ``case`` (so it cannot alter the case)."""
    return function(**copy.deepcopy(case))


@dataclass(frozen=True)
class PublicTests:
    """The public cases of one exercise, their expected outputs, and how to judge them.

    Attributes
    ----------
    id, title, hint, rtol, atol, output_names, forbid_warnings
        As in :class:`~nnlearn.exercises.registry.Exercise`.
    cases : list of dict
        Keyword arguments, one dict per public case.
    expected : list
        The reference's output for each case.
    """

    id: str
    title: str
    hint: str
    rtol: float
    atol: float
    output_names: tuple[str, ...]
    forbid_warnings: bool
    cases: list[dict[str, Any]]
    expected: list[Any]

    @property
    def function(self) -> str:
        """The name the student defines: the part of the id after the dot."""
        return self.id.split(".", 1)[1]

    @classmethod
    def from_exercise(cls, exercise: Exercise) -> PublicTests:
        """Draw the public cases of ``exercise`` and run its reference on each.

        Raises
        ------
        RuntimeError
            If the reference fails on a case (a bug in the exercise, not the student's).
        """
        cases = exercise.cases(PUBLIC_SEED)
        expected = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, case in enumerate(cases, 1):
                try:
                    expected.append(call(exercise.reference, case))
                except Exception as error:
                    raise RuntimeError(
                        f"The reference of exercise {exercise.id} failed on public case {number} "
                        f"({type(error).__name__}: {error}). This is a bug in the exercise, "
                        "not in your code: please tell your instructor."
                    ) from None
        return cls(exercise.id, exercise.title, exercise.hint, exercise.rtol, exercise.atol,
                   tuple(exercise.output_names), exercise.forbid_warnings, cases, expected)

    def to_plain(self) -> dict[str, np.ndarray]:
        """Every field as :func:`~nnlearn.exercises.compare.to_plain` arrays."""
        return to_plain({f.name: getattr(self, f.name) for f in fields(self)})

    def save(self, directory: str | Path) -> Path:
        """Write ``<directory>/<id>.npz`` and return its path."""
        path = Path(directory) / f"{self.id}.npz"
        np.savez(path, **self.to_plain())
        return path

    @classmethod
    def load(cls, path: str | Path) -> PublicTests:
        """Read what :meth:`save` wrote (plain arrays only, ``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(**from_plain({key: data[key] for key in data.files}))


def public_tests(exercise_id: str) -> PublicTests:
    """The public tests of ``exercise_id``: from the grader's files while grading, else
    computed from the registry.

    Raises
    ------
    KeyError
        If no exercise is registered (or, while grading, was provided) under that id.
    """
    directory = os.environ.get(PUBLIC_TESTS_ENV)
    if not directory:
        return PublicTests.from_exercise(get_exercise(exercise_id))
    path = Path(directory) / f"{exercise_id}.npz" if isinstance(exercise_id, str) else None
    if path is None or not path.is_file():
        raise KeyError(f"No exercise is registered under {exercise_id!r}.")
    return PublicTests.load(path)
