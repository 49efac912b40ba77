"""Universal approximation by hand (nnlearn.widgets.approximation)."""

from __future__ import annotations

import numpy as np
import pytest

from nnlearn.layers import Dense, ReLU, Sigmoid
from nnlearn.model import Sequential
from nnlearn.widgets import approximation as A

SMOOTH = A.TARGETS["sin(2x) + x/2"]


def test_relu_sum_interpolates_at_the_knots_and_is_exact_for_piecewise_linear():
    weights = A.unit_sum(SMOOTH, 10, "relu")
    np.testing.assert_allclose(A.network_output(weights, weights["knots"], "relu"), SMOOTH(weights["knots"]),
                               atol=1e-12)
    assert A.max_error(A.TARGETS["|x| - 1"], 2, "relu") < 1e-12  # knots at -3, 0, 3: exact


def test_error_falls_like_one_over_h_squared_for_relu_and_one_over_h_for_sigmoid():
    relu = [A.max_error(SMOOTH, h, "relu") for h in (16, 32, 64)]
    sigmoid = [A.max_error(SMOOTH, h, "sigmoid") for h in (16, 32, 64)]
    assert all(3.0 < a / b < 5.0 for a, b in zip(relu, relu[1:], strict=False))  # ~4 per doubling
    assert all(1.6 < a / b < 2.6 for a, b in zip(sigmoid, sigmoid[1:], strict=False))  # ~2 per doubling


def test_width_for_error_and_the_network_is_a_real_one_hidden_layer_net():
    assert A.width_for_error(SMOOTH, 0.01, "relu") < A.width_for_error(SMOOTH, 0.01, "sigmoid")
    assert A.width_for_error(SMOOTH, 1e-12, "relu", widths=[4, 8]) is None
    for kind, act in (("relu", ReLU), ("sigmoid", Sigmoid)):
        weights = A.unit_sum(SMOOTH, 12, kind)
        net = Sequential([Dense(1, 12), act(), Dense(12, 1)]).astype(np.float64)
        net.set_weights([{"w": weights["w"][None, :], "b": weights["b"]}, {},
                         {"w": weights["a"][:, None], "b": np.array([weights["c"]])}])
        x = np.linspace(-3, 3, 50)
        np.testing.assert_allclose(net.forward(x[:, None])[:, 0], A.network_output(weights, x, kind), atol=1e-12)


def test_bad_arguments_and_drawing():
    with pytest.raises(ValueError, match="'kind' parameter of unit_sum"):
        A.unit_sum(SMOOTH, 4, "tanh")
    with pytest.raises(ValueError, match="'num_hidden' parameter of unit_sum"):
        A.unit_sum(SMOOTH, 0)
    with pytest.raises(ValueError, match="'target' parameter"):
        A.draw_approximation("cos")
    ax = A.draw_approximation("a step", 6, "sigmoid")
    assert "6 sigmoid units" in ax.get_title() and len(ax.get_lines()) == 6 + 3
    widget = A.approximation_widget()
    widget.kwargs_widgets[1].value = 20  # redraws without a front end
    assert type(widget).__name__ == "interactive"
