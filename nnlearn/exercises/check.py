"""``check(exercise_id, function)``: instant feedback in the exercise notebooks.

    check("backprop.dense_backward", dense_backward)

runs the exercise's public cases through the student's function and the
reference, and compares the outputs. On success it prints one line
(``✓ dense_backward passed 5 public tests``) and returns None (a returned value
would become an ``execute_result``, which nbgrader reads as a partial score).
On failure it raises a :class:`~nnlearn.exercises.feedback.CheckFailed` that
Jupyter shows as a short verdict instead of a traceback.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from nnlearn.exercises import feedback
from nnlearn.exercises.compare import compare
from nnlearn.exercises.public import PublicTests, call, public_tests


def _warning_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    lines = []
    for w in caught:
        line = f"{w.category.__name__}: {w.message}"
        if line not in lines:
            lines.append(line)
    return lines[:3]


def _guesses(tests: PublicTests, function, number, received) -> list[str]:
    """Clues to the mistake from the failing case, else from the first later case giving one.

    A 1 x 1 case shows no pattern (every error is "an offset"), a larger one may.
    """
    cases, expected, names = tests.cases, tests.expected, tests.output_names or None
    found = feedback.clues(expected[number - 1], received, cases[number - 1], names)
    for later in range(number, len(cases)):
        if found:
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                output = call(function, cases[later])
        except Exception:
            continue
        if compare(expected[later], output, tests.rtol, tests.atol, names=names) is not None:
            clues = feedback.clues(expected[later], output, cases[later], names)
            found = [f"on public test {later + 1}, {clue}" for clue in clues]
    return found


def check(exercise_id: str, function: Callable[..., Any]) -> None:
    """Run the public tests of ``exercise_id`` on ``function``.

    Parameters
    ----------
    exercise_id : str
        ``"<topic>.<function>"``, e.g. ``"backprop.dense_backward"``.
    function : callable
        The student's function.

    Raises
    ------
    CheckFailed
        ``NotImplementedYet``, ``StudentCodeError`` or ``WrongOutput``, whose
        message is a short verdict.
    """
    try:
        with warnings.catch_warnings():  # stderr output would fail the cell under nbgrader
            warnings.simplefilter("ignore")
            tests = public_tests(exercise_id)
    except KeyError as error:
        raise feedback.CheckFailed(f"✗ {error.args[0]}") from None
    name, cases = tests.function, tests.cases
    if not callable(function):
        raise feedback.CheckFailed(
            f"✗ check() needs the function {name} as its second argument. "
            f"Got {feedback.describe_value(function)} instead."
        )
    all_warnings: list[str] = []
    for number, (case, want) in enumerate(zip(cases, tests.expected, strict=True), 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                received = call(function, case)
            except NotImplementedError as error:
                raise feedback.not_implemented(f"Exercise {tests.id}", name, error) from None
            except Exception as error:
                raise feedback.student_error(
                    name, number, len(cases), case, error, tests.hint
                ) from None
        case_warnings = _warning_lines(caught)
        all_warnings += [w for w in case_warnings if w not in all_warnings]
        difference = compare(
            want, received, tests.rtol, tests.atol, names=tests.output_names or None
        )
        if difference is None and tests.forbid_warnings and case_warnings:
            raise feedback.right_but_warned(
                name, number, len(cases), case, tests.hint, case_warnings
            )
        if difference is not None:
            guesses = _guesses(tests, function, number, received)
            raise feedback.wrong_output(
                name, number, len(cases), case, difference, tests.hint, case_warnings, guesses
            )
    noun = "test" if len(cases) == 1 else "tests"
    print(f"✓ {name} passed {len(cases)} public {noun}")
    for line in all_warnings:
        print(f"  note: your code issued a warning: {line}")
