"""Public tests as data: ``check()`` gives the same verdicts from the grader's files as
from the registry, and while grading it never needs the registry (the sandbox has no specs)."""

from __future__ import annotations

import pytest

from nnlearn.exercises import public
from nnlearn.exercises.check import check
from nnlearn.exercises.compare import compare
from nnlearn.exercises.feedback import CheckFailed
from nnlearn.exercises.public import PUBLIC_TESTS_ENV, PublicTests, public_tests
from nnlearn.exercises.registry import get_exercise

EXERCISE = "backprop.dense_backward"


def _wrong(dout, x, w):  # db summed over the wrong axis
    return dout @ w.T, x.T @ dout, dout.sum(axis=1)


def _verdict(function, capsys) -> str:
    try:
        check(EXERCISE, function)
    except CheckFailed as error:
        return str(error)
    return capsys.readouterr().out


def test_public_tests_survive_the_file_unchanged(tmp_path):
    tests = PublicTests.from_exercise(get_exercise(EXERCISE))
    back = PublicTests.load(tests.save(tmp_path))
    assert back.id == EXERCISE and back.function == "dense_backward"
    assert (back.title, back.hint, back.output_names) == (tests.title, tests.hint,
                                                           tests.output_names)
    assert (back.rtol, back.atol, back.forbid_warnings) == (tests.rtol, tests.atol,
                                                            tests.forbid_warnings)
    assert compare(tests.cases, back.cases, 0, 0) is None
    assert compare(tests.expected, back.expected, 0, 0) is None


def test_check_reads_the_files_and_never_the_registry(tmp_path, monkeypatch, capsys):
    reference = get_exercise(EXERCISE).reference
    from_registry = [_verdict(f, capsys) for f in (reference, _wrong)]
    PublicTests.from_exercise(get_exercise(EXERCISE)).save(tmp_path)
    monkeypatch.setenv(PUBLIC_TESTS_ENV, str(tmp_path))

    def no_registry(exercise_id):
        raise AssertionError("the registry was used while grading")

    monkeypatch.setattr(public, "get_exercise", no_registry)
    from_files = [_verdict(f, capsys) for f in (reference, _wrong)]
    assert from_files == from_registry
    assert from_files[0].startswith("✓ dense_backward passed")
    assert "db" in from_files[1]


def test_an_exercise_without_a_file_is_unknown_while_grading(tmp_path, monkeypatch):
    monkeypatch.setenv(PUBLIC_TESTS_ENV, str(tmp_path))
    with pytest.raises(KeyError, match="No exercise is registered under 'backprop.dense"):
        public_tests(EXERCISE)
    with pytest.raises(CheckFailed, match="No exercise is registered"):
        check(EXERCISE, _wrong)
