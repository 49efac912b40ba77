"""Lesson 02_activations: the explorer widget and the exercise cases that catch unstable code."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from nnlearn import activations as F
from nnlearn.exercises import check
from nnlearn.exercises.feedback import WrongOutput
from nnlearn.widgets.activations import (
    FUNCTIONS,
    activation_explorer,
    activation_pair,
    draw_activation,
)

# -- the widget's drawing function ------------------------------------------------------------


def _marked_points(ax: Axes) -> list[tuple[float, float]]:
    """(x, y) of the single-point markers on ``ax``."""
    return [(float(line.get_xdata()[0]), float(line.get_ydata()[0]))
            for line in ax.get_lines() if len(line.get_xdata()) == 1]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_draw_activation_marks_f_and_df_at_x0(name):
    x0 = -1.5
    ax = draw_activation(name, x0=x0, alpha=0.2)
    assert isinstance(ax, Axes)
    f, df = activation_pair(name, alpha=0.2)
    expected = [(x0, float(f(np.array(x0)))), (x0, float(df(np.array(x0))))]
    np.testing.assert_allclose(_marked_points(ax), expected)
    assert name in ax.get_title() and "f'(-1.50)" in ax.get_title()


def test_tangent_has_the_derivative_as_slope():
    ax = draw_activation("tanh", x0=0.7)
    (tangent,) = [line for line in ax.get_lines() if line.get_label() == "tangent at $x_0$"]
    xs, ys = tangent.get_xdata(), tangent.get_ydata()
    slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    np.testing.assert_allclose(slope, F.tanh_grad(0.7))


def test_leaky_alpha_sets_the_negative_slope():
    ax = draw_activation("leaky_relu", x0=-2.0, alpha=0.3)
    assert _marked_points(ax)[1] == pytest.approx((-2.0, 0.3))
    assert "alpha=0.3" in ax.get_title()


def test_draw_activation_uses_the_given_axes():
    _, ax = plt.subplots()
    assert draw_activation("relu", x0=2.0, ax=ax) is ax


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"name": "softplus"}, "'name'"),
        ({"name": "leaky_relu", "alpha": -0.1}, "'alpha'"),
        ({"x0": 10.0}, "'x0'"),
        ({"x0": float("nan")}, "'x0'"),
        ({"x_range": (3, -3)}, "'x_range[1]'"),
        ({"x_range": 5}, "'x_range'"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, parameter):
    with pytest.raises(ValueError, match=re.escape(parameter)) as info:
        draw_activation(**kwargs)
    assert "Got" in str(info.value)


def test_explorer_offers_every_function_and_enables_alpha_for_leaky_relu():
    pytest.importorskip("ipywidgets")
    widget = activation_explorer()
    controls = {child.description: child for child in widget.children if hasattr(child, "description")}
    assert tuple(controls["function"].options) == FUNCTIONS
    assert controls["alpha"].disabled
    controls["function"].value = "leaky_relu"
    assert not controls["alpha"].disabled
    controls["function"].value = "tanh"
    assert controls["alpha"].disabled


# -- the exercise cases catch the classic unstable formulas -----------------------------------


def _naive_softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid_other_form(x):
    return np.exp(x) / (1 + np.exp(x))


@pytest.mark.parametrize(
    ("exercise_id", "function"),
    [("activations.softmax", _naive_softmax), ("activations.sigmoid", _sigmoid_other_form)],
)
def test_unstable_formulas_fail_with_the_input_and_nan_shown(exercise_id, function):
    with pytest.raises(WrongOutput) as info:
        check(exercise_id, function)
    text = str(info.value)
    assert "received nan" in text and "hint:" in text
    assert "RuntimeWarning: overflow encountered in exp" in text  # the verdict names the cause


def test_naive_sigmoid_fails_for_its_overflow_although_its_values_are_right():
    with pytest.raises(WrongOutput) as info:
        check("activations.sigmoid", lambda x: 1 / (1 + np.exp(-x)))
    text = str(info.value)
    assert text.startswith("✗ sigmoid returned the right values on public test")
    assert "but your code issued a warning" in text
    assert "overflow encountered in exp" in text
