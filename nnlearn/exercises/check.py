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
from nnlearn.exercises.registry import PUBLIC_SEED, Exercise, get_exercise


def _warning_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    lines = []
    for w in caught:
        line = f"{w.category.__name__}: {w.message}"
        if line not in lines:
            lines.append(line)
    return lines[:3]


def _expected_outputs(exercise: Exercise, cases: list[dict[str, Any]]) -> list[Any]:
    outputs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for number, case in enumerate(cases, 1):
            try:
                outputs.append(exercise.run(exercise.reference, case))
            except Exception as error:
                raise RuntimeError(
                    f"The reference of exercise {exercise.id} failed on public case {number} "
                    f"({type(error).__name__}: {error}). This is a bug in the exercise, "
                    "not in your code: please tell your instructor."
                ) from None
    return outputs


def _guesses(exercise, function, cases, expected, number, received) -> list[str]:
    """Clues to the mistake from the failing case, else from the first later case giving one.

    A 1 x 1 case shows no pattern (every error is "an offset"), a larger one may.
    """
    names = exercise.output_names or None
    found = feedback.clues(expected[number - 1], received, cases[number - 1], names)
    for later in range(number, len(cases)):
        if found:
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                output = exercise.run(function, cases[later])
        except Exception:
            continue
        if compare(expected[later], output, exercise.rtol, exercise.atol, names=names) is not None:
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
            exercise = get_exercise(exercise_id)
    except KeyError as error:
        raise feedback.CheckFailed(f"✗ {error.args[0]}") from None
    name = exercise.function
    if not callable(function):
        raise feedback.CheckFailed(
            f"✗ check() needs the function {name} as its second argument. "
            f"Got {feedback.describe_value(function)} instead."
        )
    cases = exercise.cases(PUBLIC_SEED)
    expected = _expected_outputs(exercise, cases)
    all_warnings: list[str] = []
    for number, (case, want) in enumerate(zip(cases, expected, strict=True), 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                received = exercise.run(function, case)
            except NotImplementedError as error:
                raise feedback.not_implemented(f"Exercise {exercise.id}", name, error) from None
            except Exception as error:
                raise feedback.student_error(
                    name, number, len(cases), case, error, exercise.hint
                ) from None
        case_warnings = _warning_lines(caught)
        all_warnings += [w for w in case_warnings if w not in all_warnings]
        difference = compare(
            want, received, exercise.rtol, exercise.atol, names=exercise.output_names or None
        )
        if difference is None and exercise.forbid_warnings and case_warnings:
            raise feedback.right_but_warned(
                name, number, len(cases), case, exercise.hint, case_warnings
            )
        if difference is not None:
            guesses = _guesses(exercise, function, cases, expected, number, received)
            raise feedback.wrong_output(
                name, number, len(cases), case, difference, exercise.hint, case_warnings, guesses
            )
    tests = "test" if len(cases) == 1 else "tests"
    print(f"✓ {name} passed {len(cases)} public {tests}")
    for line in all_warnings:
        print(f"  note: your code issued a warning: {line}")
