"""Tests for nnlearn.plots: every function draws, returns its Axes, and never shows."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

from nnlearn import data, plots


@pytest.fixture
def blobs():
    x, y = data.moons(60, rng=0)
    return x, y


def _contours(ax):
    return [c for c in ax.get_children() if isinstance(c, ContourSet)]


def _scatters(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


# -- plot_decision_boundary --------------------------------------------------------


class LinearModel:
    """A stand-in for a fitted model: labels from the sign of x1 + x2 - 0.5."""

    def predict(self, x):
        return (x.sum(axis=1) > 0.5).astype(np.int64)


def sigmoid_probability(x):  # (M, 2) -> (M, 1), probabilities
    return 1 / (1 + np.exp(-(x[:, :1] - 0.5)))


def three_class_scores(x):  # (M, 2) -> (M, 3), scores; argmax gives the class
    return np.stack([x[:, 0], x[:, 1], -x[:, 0] - x[:, 1]], axis=1)


@pytest.mark.parametrize(
    "predict",
    [
        LinearModel(),
        LinearModel().predict,
        sigmoid_probability,
        lambda x: sigmoid_probability(x)[:, 0],  # (M,) probabilities
        three_class_scores,
        lambda x: (x[:, 0] > 0).astype(np.float32),  # labels as floats
    ],
    ids=["object", "labels", "proba_M1", "proba_M", "scores_MC", "float_labels"],
)
def test_decision_boundary_accepts_every_kind_of_predict(predict, blobs):
    x, y = blobs
    ax = plots.plot_decision_boundary(predict, x, y, resolution=30)
    assert isinstance(ax, Axes)
    assert len(_contours(ax)) == 1
    (points,) = _scatters(ax)
    assert len(points.get_offsets()) == len(x)
    assert ax.get_xlabel() and ax.get_title()


def test_decision_boundary_regions_follow_predictions():
    x = np.array([[-1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    y = np.array([0, 1])
    seen = {}

    def predict(points):
        seen["points"] = points
        return (points[:, 0] > 0).astype(int)

    fig, ax = plt.subplots()
    out = plots.plot_decision_boundary(predict, x, y, ax=ax, resolution=11, padding=0.5)
    assert out is ax
    assert seen["points"].shape == (121, 2) and seen["points"].dtype == np.float32
    assert ax.get_xlim() == pytest.approx((-1.5, 1.5))
    (cs,) = _contours(ax)
    np.testing.assert_allclose(cs.levels, [-0.5, 0.5, 1.5])


def test_decision_boundary_single_predicted_class(blobs):
    x, y = blobs
    ax = plots.plot_decision_boundary(lambda p: np.zeros(len(p), dtype=int), x, y, resolution=10)
    assert len(_contours(ax)) == 1


@pytest.mark.parametrize(
    "predict, error, match",
    [
        ("not a model", TypeError, r"callable.*got str"),
        (lambda p: np.zeros((len(p), 2, 2)), ValueError, r"returned shape"),
        (lambda p: np.zeros(3), ValueError, r"returned shape \(3,\)"),
        (lambda p: 5 * p[:, 0] + 0.3, ValueError, r"logits"),
    ],
)
def test_decision_boundary_errors(predict, error, match, blobs):
    x, y = blobs
    with pytest.raises(error, match=match):
        plots.plot_decision_boundary(predict, x, y, resolution=10)


def test_decision_boundary_checks_x_shape():
    with pytest.raises(ValueError, match=r"shape \(N, 2\); got \(4, 3\)"):
        plots.plot_decision_boundary(LinearModel(), np.zeros((4, 3)), np.zeros(4))


# -- plot_history ------------------------------------------------------------------

HISTORY = {
    "loss": [1.0, 0.6, 0.4],
    "val_loss": [1.1, 0.7, 0.6],
    "accuracy": [0.5, 0.7, 0.8],
    "val_accuracy": [0.4, 0.6, 0.7],
    "lr": [0.1, 0.1, 0.1],
}


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_history_one_subplot_per_metric_with_train_and_val():
    axes = plots.plot_history(HISTORY)
    assert len(axes) == 2 and all(isinstance(ax, Axes) for ax in axes)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        assert _labels(ax) == ["train", "validation"]
        assert ax.get_legend() is not None
        assert ax.get_ylabel() == metric and ax.get_xlabel() == "epoch"
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])  # 1-based
    np.testing.assert_array_equal(axes[0].get_lines()[1].get_ydata(), HISTORY["val_loss"])


def test_history_from_model_object_skips_missing_metrics():
    class Fitted:
        history_ = {"loss": [0.9, 0.5]}

    fig, axes_in = plt.subplots(1, 3)
    axes = plots.plot_history(Fitted(), metrics=("loss", "accuracy", "f1"), axes=axes_in)
    assert axes == [axes_in[0]]
    assert _labels(axes[0]) == ["train"]
    assert not axes_in[1].get_lines()


def test_history_single_axes_and_string_metric():
    fig, ax = plt.subplots()
    assert plots.plot_history(HISTORY, metrics="lr", axes=ax) == [ax]


def test_history_errors():
    with pytest.raises(ValueError, match=r"none of the metrics.*keys \['loss'\]"):
        plots.plot_history({"loss": [1.0]}, metrics=("accuracy",))
    with pytest.raises(TypeError, match="dict of lists"):
        plots.plot_history([1.0, 0.5])
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="got 1 axes for the 2 metrics"):
        plots.plot_history(HISTORY, axes=ax)


# -- functions, loss surfaces, trajectories ----------------------------------------


def test_function_and_derivative():
    def tanh(x):
        return np.tanh(x)

    ax = plots.plot_function_and_derivative(tanh, lambda x: 1 - np.tanh(x) ** 2, x_range=(-3, 3))
    assert ax.get_title() == "tanh"
    f_line, df_line = [ln for ln in ax.get_lines() if ln.get_label() in ("f(x)", "f'(x)")]
    assert f_line.get_xdata()[0] == -3 and f_line.get_xdata()[-1] == 3
    np.testing.assert_allclose(df_line.get_ydata().max(), 1.0, atol=1e-3)


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize("log", [True, False])
def test_loss_surface_and_trajectory(log):
    ax = plots.plot_loss_surface(rosenbrock, (-2, 2), (-1, 3), levels=15, log=log, resolution=41)
    (cs,) = _contours(ax)
    assert len(cs.levels) == 15 if log else len(cs.levels) > 1
    if log:
        assert np.all(np.diff(np.log(cs.levels)) > 0)
    path = np.array([[-1.5, 2.0], [-1.0, 1.0], [0.0, 0.2], [0.9, 0.8]])
    out = plots.plot_trajectory(path, ax=ax, label="SGD", color="red")
    assert out is ax
    line, end = ax.get_lines()
    np.testing.assert_array_equal(line.get_xydata(), path)
    np.testing.assert_array_equal(end.get_xydata(), path[-1:])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD"]


def test_loss_surface_accepts_vector_loss_via_stack():
    def loss(w):  # a function of one vector w = (w1, w2)
        return w[0] ** 2 + 3 * w[1] ** 2

    ax = plots.plot_loss_surface(lambda x, y: loss(np.stack([x, y])), (-1, 1), (-1, 1),
                                 resolution=21)
    assert len(_contours(ax)) == 1


def test_loss_surface_errors():
    with pytest.raises(ValueError, match="vectorised"):
        plots.plot_loss_surface(lambda x, y: 1.0, (-1, 1), (-1, 1), resolution=5)
    with pytest.raises(ValueError, match="log=False"):
        plots.plot_loss_surface(lambda x, y: -(x**2) - 1, (-1, 1), (-1, 1), resolution=5)


def test_trajectory_errors():
    with pytest.raises(ValueError, match=r"\(K, 2\).*got \(3,\)"):
        plots.plot_trajectory([1.0, 2.0, 3.0])


def test_no_function_shows_figures(monkeypatch, blobs):
    def fail():
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", fail)
    x, y = blobs
    plots.plot_decision_boundary(LinearModel(), x, y, resolution=10)
    plots.plot_history(HISTORY)
    plots.plot_function_and_derivative(np.tanh, np.cos)
    ax = plots.plot_loss_surface(rosenbrock, (-2, 2), (-1, 3), resolution=10)
    plots.plot_trajectory([[0, 0], [1, 1]], ax=ax)
