"""Feedback that reacts to the mistake: clues for common slips, NaN and warning verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from nnlearn.exercises.check import check
from nnlearn.exercises.compare import compare
from nnlearn.exercises.feedback import WrongOutput, clues


def _verdict(exercise_id, function) -> list[str]:
    with pytest.raises(WrongOutput) as info:
        check(exercise_id, function)
    return info.value._render_traceback_()


def _likely(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line.startswith("  likely:"))


# -- the clues on their own ------------------------------------------------------------------

X = np.arange(12.0).reshape(4, 3) + 1  # (N, D) = (4, 3)


@pytest.mark.parametrize(
    "expected, received, text",
    [
        (X.sum(axis=0), X.mean(axis=0), "received = expected / 4, and 4 is the number of rows of x"),
        (X.mean(axis=0), X.sum(axis=0), "received = expected × 4, and 4 is the number of rows of x"),
        (float(X.sum()), float(X.mean()), "expected / 12, and 12 is the number of entries of x"),
        (X, -X, "the sign is flipped"),
        (X, 0.5 * X, "received = expected × 0.5 at every entry: a factor 2"),
        (X, 2 * X, "the derivative of a square, or the 1/2 in front of one?"),
        (X, 0.3 * X, "received = expected × 0.3 at every entry: a constant factor is off"),
        (X, X + 0.25, "received = expected + 0.25 at every entry: a constant offset"),
        (X, X.T, "the transposed shape (and exactly the transpose)"),
        (X[:3], X[:3].T, "received is the transpose of the expected array"),
        (X.sum(axis=0), X.sum(axis=1), "the shape of x reduced over axis 1, where axis 0 is expected"),
        (X.sum(axis=0, keepdims=True), X.sum(axis=1, keepdims=True), "reduced over axis 1"),
        (X.sum(axis=1), X.sum(axis=1, keepdims=True), "the wrong shape ((4, 1) instead of (4,))"),
        (np.zeros(4), np.zeros((4, 4)), "broadcast against each other into N × N"),
        (X, None, "your function returned None: is the `return` line missing?"),
        ((X, X), (X, None), "db is None: did you return it?"),
    ],
)  # fmt: skip
def test_clues_recognise_the_mistake(expected, received, text):
    found = clues(expected, received, {"x": X}, names=("dw", "db"))
    assert len(found) == 1 and text in found[0], found


@pytest.mark.parametrize(
    "expected, received",
    [
        (X, X + np.random.default_rng(0).standard_normal(X.shape)),  # just wrong: no guess
        (2.0, 3.0),  # a scalar: every difference is "an offset", so none is claimed
        ("relu", "tanh"),
        (np.array([True, False]), np.array([True, True])),
    ],
)
def test_no_clue_when_none_fits(expected, received):
    assert clues(expected, received, {"x": X}) == []


def test_nan_is_reported_where_it_is():
    message = compare(np.ones((2, 3)), np.array([[1.0, 1.0, 1.0], [1.0, np.nan, 1.0]]))
    assert message.startswith("output: received nan at [1, 1] (expected 1); 1 of 6 entries")
    assert "max abs difference inf" not in message


# -- in the verdicts of real exercises -------------------------------------------------------


def test_mean_instead_of_sum_is_named_in_the_verdict():
    lines = _verdict("backprop.dense_backward",
                     lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.mean(axis=0)))  # fmt: skip
    assert lines[0].startswith("✗ dense_backward returned a wrong result on public test")
    assert "db: received = expected / " in _likely(lines)
    assert "a mean where a sum belongs" in _likely(lines)


def test_other_axis_and_transposed_shape_are_named():
    other = _verdict("backprop.dense_backward",
                     lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.sum(axis=1)))  # fmt: skip
    assert "db: the shape of dout reduced over axis 1, where axis 0 is expected" in _likely(other)
    swapped = _verdict("backprop.dense_backward",
                       lambda dout, x, w: (dout @ w.T, dout.T @ x, dout.sum(axis=0)))  # fmt: skip
    assert "dw: the transposed shape" in _likely(swapped)


def test_missing_return_is_named():
    def dense_backward(dout, x, w):
        dx = dout @ w.T  # noqa: F841 (the student forgot the return line)

    lines = _verdict("backprop.dense_backward", dense_backward)
    assert "  likely: your function returned None: is the `return` line missing?" in lines


def test_constant_offset_is_named():
    lines = _verdict("backprop.dense_forward", lambda x, w, b: x @ w + b + 1.0)
    assert "on public test 2, output: received = expected + 1 at every entry: a constant offset" in _likely(lines)


def test_right_values_with_a_warning_say_so_first():
    lines = _verdict("activations.sigmoid", lambda x: 1 / (1 + np.exp(-x)))
    assert lines[0].startswith("✗ sigmoid returned the right values on public test")
    assert "but your code issued a warning" in lines[0] and "returned a wrong result" not in lines[0]
    assert any("overflow encountered in exp" in line for line in lines)


def test_nan_output_is_reported_as_received_nan_at():
    def softmax(x):
        e = np.exp(x)  # overflows on the large-logit case
        return e / e.sum(axis=1, keepdims=True)

    text = "\n".join(_verdict("activations.softmax", softmax))
    assert "received nan at [" in text and "max abs difference inf" not in text


def test_short_nested_lists_are_shown_in_full():
    from nnlearn.exercises.feedback import describe_value

    assert describe_value([[], [0, 0], [1]]) == "[[], [0, 0], [1]]"
    assert describe_value([[i] for i in range(50)]) == "list of 50 items"
