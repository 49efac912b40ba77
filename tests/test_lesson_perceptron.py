"""Lesson 01: nnlearn.perceptron (Rosenblatt's rule) and the lesson's widget helpers."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnlearn.data import logic_gate
from nnlearn.perceptron import Perceptron, step
from nnlearn.widgets import perceptron as widget


def _separable(rng, N=40, D=3):
    """N points in D dimensions labelled by a random hyperplane (some near it)."""
    x = rng.standard_normal((N, D))
    y = (x @ rng.standard_normal(D) + 0.2 > 0).astype(np.int64)
    return x, y


def _rule_by_hand(x, y, lr, epochs, w, b):
    """The perceptron rule written out, sample by sample: the oracle for fit."""
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for x_i, y_i in zip(x, y, strict=True):
            error = y_i - int(np.dot(x_i, w) + b >= 0)
            w, b = w + lr * error * x_i, b + lr * error
            mistakes += error != 0
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


# -- step ------------------------------------------------------------------------------


def test_step_is_one_at_and_above_zero():
    out = step(np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 0, 1, 1, 1])
    assert step(np.zeros((2, 3))).shape == (2, 3)


# -- Perceptron: what it learns ------------------------------------------------------------


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_learns_the_linearly_separable_gates(gate):
    x, y = logic_gate(gate)
    model = Perceptron(lr=0.1, epochs=50, rng=0)
    assert model.fit(x, y) is model  # sklearn style
    np.testing.assert_array_equal(model.predict(x), y)
    assert model.converged_ and model.errors_[-1] == 0 and min(model.errors_[:-1]) > 0
    assert model.w_.shape == (2,) and model.w_.dtype == np.float64 and isinstance(model.b_, float)


def test_or_predicts_0_1_1_1():
    x, y = logic_gate("or")
    assert Perceptron(rng=0).fit(x, y).predict(x).tolist() == [0, 1, 1, 1]


def test_never_converges_on_xor():
    x, y = logic_gate("xor")
    for seed in range(5):
        model = Perceptron(lr=0.1, epochs=200, rng=seed).fit(x, y)
        assert not model.converged_
        assert len(model.errors_) == 200 and min(model.errors_) >= 1
        assert (model.predict(x) != y).sum() >= 1


def test_matches_the_rule_written_by_hand():
    rng = np.random.default_rng(7)
    x, y = _separable(rng)
    model = Perceptron(lr=0.3, epochs=6, rng=11).fit(x, y)
    w0 = 0.01 * np.random.default_rng(11).standard_normal(3)  # the documented initialisation
    w, b, errors = _rule_by_hand(x, y, 0.3, 6, w0, 0.0)
    np.testing.assert_array_equal(model.w_, w)
    assert model.b_ == b and model.errors_ == errors


def test_matches_sklearn_perceptron():
    """sklearn's Perceptron (no shuffling, no penalty) runs the same rule: an independent oracle."""
    from sklearn.linear_model import Perceptron as SklearnPerceptron

    for seed in range(4):
        x, y = _separable(np.random.default_rng(seed))
        ours = Perceptron(lr=0.5, epochs=8, rng=seed).fit(x, y)
        w0 = 0.01 * np.random.default_rng(seed).standard_normal(x.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached
            theirs = SklearnPerceptron(eta0=0.5, max_iter=8, tol=None, shuffle=False, penalty=None)
            theirs.fit(x, y, coef_init=w0[None, :], intercept_init=[0.0])
        np.testing.assert_allclose(ours.w_, theirs.coef_[0], rtol=1e-12, atol=1e-12)
        assert ours.b_ == pytest.approx(theirs.intercept_[0], abs=1e-12)


def test_separable_data_converges_and_stops_early():
    x, y = _separable(np.random.default_rng(3), N=60, D=2)
    model = Perceptron(lr=1.0, epochs=1000, rng=0).fit(x, y)
    assert model.converged_ and len(model.errors_) < 1000
    np.testing.assert_array_equal(model.predict(x), y)


def test_an_int_seed_and_a_generator_give_the_same_model():
    x, y = logic_gate("and")
    a = Perceptron(lr=0.1, rng=5).fit(x, y)
    b = Perceptron(lr=0.1, rng=np.random.default_rng(5)).fit(x, y)
    np.testing.assert_array_equal(a.w_, b.w_)
    assert a.errors_ == b.errors_


def test_decision_function_and_predict_shapes():
    x, y = logic_gate("and")
    model = Perceptron(rng=0).fit(x, y)
    z = model.decision_function(x)
    assert z.shape == (4,)
    np.testing.assert_allclose(z, x @ model.w_ + model.b_)
    np.testing.assert_array_equal(model.predict(x), (z >= 0).astype(int))
    assert model.predict(x.tolist()).dtype == np.int64  # lists are fine
    assert "Perceptron(lr=0.1" in repr(model)


# -- Perceptron: clear errors -------------------------------------------------------------


@pytest.mark.parametrize("lr", [0, -1, float("nan"), "0.1", True])
def test_bad_lr(lr):
    x, y = logic_gate("or")
    with pytest.raises(ValueError, match=r"The 'lr' parameter of Perceptron must be a float > 0\. Got"):
        Perceptron(lr=lr).fit(x, y)


@pytest.mark.parametrize("epochs", [0, 2.5, None])
def test_bad_epochs(epochs):
    x, y = logic_gate("or")
    with pytest.raises(ValueError, match=r"The 'epochs' parameter of Perceptron must be an int >= 1"):
        Perceptron(epochs=epochs).fit(x, y)


def test_bad_data():
    x, y = logic_gate("or")
    with pytest.raises(ValueError, match=r"x must be a 2-D array of shape \(N, D\); got shape \(2,\).*x\[None, :\]"):
        Perceptron().fit(x[0], y[:1])
    with pytest.raises(ValueError, match=r"y must be a 1-D array of N = 4 labels.*got shape \(3,\)"):
        Perceptron().fit(x, y[:3])
    with pytest.raises(ValueError, match=r"y must hold class labels 0 and 1 only; got the values \[-1, 1\]"):
        Perceptron().fit(x, 2 * y - 1)
    with pytest.raises(ValueError, match=r"x must be finite"):
        Perceptron().fit(np.where(x == 1, np.nan, x), y)
    with pytest.raises(TypeError, match="x must hold numbers"):
        Perceptron().fit(np.array([["a", "b"]] * 4), y)
    with pytest.raises(ValueError, match="at least one sample"):
        Perceptron().fit(np.zeros((0, 2)), np.zeros(0))


def test_predict_errors():
    x, y = logic_gate("or")
    with pytest.raises(ValueError, match=r"not fitted yet\. Call fit\(x, y\)"):
        Perceptron().predict(x)
    model = Perceptron(rng=0).fit(x, y)
    with pytest.raises(ValueError, match=r"fitted on 2; expected shape \(N, 2\), got \(4, 3\)"):
        model.predict(np.ones((4, 3)))


# -- the widget helpers --------------------------------------------------------------------


def test_count_misclassified():
    x, y = logic_gate("and")
    assert widget.count_misclassified([1, 1], -1.5, x, y) == 0
    assert widget.count_misclassified([1, 1], -0.5, x, y) == 2  # that is OR
    assert widget.count_misclassified([0, 0], 0, x, y) == 3  # fires everywhere
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        widget.count_misclassified([1, 1], 0, np.ones((4, 3)), y)
    with pytest.raises(ValueError, match=r"w must hold 2 weights"):
        widget.count_misclassified([1, 1, 1], 0, x, y)


@pytest.mark.parametrize("w", [[1.0, 1.0], [2.0, 0.0], [0.0, -1.0], [0.0, 0.0]])
def test_plot_neuron_line_draws_without_warnings(w):
    x, y = logic_gate("xor")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = widget.plot_neuron_line(w, -0.5, x, y, title="XOR")
    assert ax.get_title().startswith("XOR: ") and ax.get_title().endswith("misclassified")
    lines = [line for line in ax.get_lines() if line.get_label().startswith("$w")]
    assert len(lines) == (0 if w == [0.0, 0.0] else 1)
    if lines:  # the drawn line really is w·x + b = 0
        x1, x2 = lines[0].get_data()
        np.testing.assert_allclose(w[0] * np.asarray(x1) + w[1] * np.asarray(x2) - 0.5, 0, atol=1e-12)


def test_draw_gates_counts_mistakes_per_gate():
    counts = widget.draw_gates(1.0, 1.0, -1.5)
    assert counts == {"and": 0, "or": 2, "xor": 3}
    fig = plt.gcf()
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == [
        "AND: 0 misclassified", "OR: 2 misclassified", "XOR: 3 misclassified"
    ]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        h.get_label() for h in widget.legend_handles()
    ]
    assert widget.draw_gates(1.0, 1.0, -0.5, gates=("or",)) == {"or": 0}


def test_legend_handles_name_what_the_panels_draw():
    labels = [h.get_label() for h in widget.legend_handles()]
    assert labels == ["$w \\cdot x + b = 0$", "y = 0", "y = 1", "misclassified"]


def test_no_neuron_solves_xor_on_a_grid_of_weights():
    x, y = logic_gate("xor")
    grid = np.linspace(-2, 2, 21)
    best = min(widget.count_misclassified([w1, w2], b, x, y) for w1 in grid for w2 in grid for b in grid)
    assert best == 1


def test_widget_builds():
    pytest.importorskip("ipywidgets")
    w = widget.neuron_line_widget(0.5, 0.5, -0.2)
    assert [c.description for c in w.children[:3]] == ["w1", "w2", "b"]
    assert [c.value for c in w.children[:3]] == [0.5, 0.5, -0.2]


def test_a_line_outside_the_view_is_named_not_silently_missing():
    x, y = logic_gate("xor")
    lo, hi = x.min(axis=0) - 0.5, x.max(axis=0) + 0.5
    w, b = [-0.0987, -0.0013], -0.1  # lesson 01: XOR's first update; the line is at x1 ≈ -1
    assert not widget.line_in_view(w, b, lo, hi) and widget.line_in_view([1, 1], -1.5, lo, hi)
    ax = widget.plot_neuron_line(w, b, x, y)
    texts = [t.get_text() for t in ax.texts]
    assert any("outside this view" in t and "fires nowhere" in t for t in texts), texts
    ax = widget.plot_neuron_line([1.0, 1.0], -1.5, x, y)
    assert not any("outside" in t.get_text() for t in ax.texts)
