"""Lesson 03: the widget helpers of nnlearn.widgets.backprop (graph values, boundary snapshots)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnlearn.callbacks import LambdaCallback
from nnlearn.data import moons
from nnlearn.gradcheck import numerical_gradient, relative_error
from nnlearn.layers import Dense, Tanh
from nnlearn.losses import BinaryCrossEntropyWithLogits
from nnlearn.model import Sequential
from nnlearn.optim import SGD
from nnlearn.widgets import backprop as widget

LEAVES = ("x1", "x2", "w1", "w2", "b")


# -- the single-neuron graph ---------------------------------------------------------------


def _loss_of(values: dict, y: float) -> float:
    """The neuron's loss computed independently: nnlearn's BCE on the logit."""
    a = values["w1"] * values["x1"] + values["w2"] * values["x2"] + values["b"]
    return BinaryCrossEntropyWithLogits()(np.array([[a]]), np.array([[y]]))


@pytest.mark.parametrize("seed", range(5))
def test_neuron_graph_gradients_match_central_differences(seed):
    rng = np.random.default_rng(seed)
    leaves = dict(zip(LEAVES, 2 * rng.standard_normal(5), strict=True))
    y = float(seed % 2)
    graph = widget.neuron_graph(y=y, **leaves)
    theta = np.array([leaves[k] for k in LEAVES])  # float64, nudged in place by numerical_gradient

    def f():
        return _loss_of(dict(zip(LEAVES, theta, strict=True)), y)

    analytic = np.array([graph["grads"][k] for k in LEAVES])
    assert relative_error(analytic, numerical_gradient(f, theta)) < 1e-7
    assert graph["values"]["L"] == pytest.approx(f(), rel=1e-12)
    values, grads = graph["values"], graph["grads"]
    assert grads["a"] == pytest.approx(values["p"] - y)  # the p - y of cross-entropy + sigmoid
    assert grads["L"] == 1.0 and "y" not in grads and values["y"] == y


def test_neuron_graph_stays_finite_when_saturated():
    graph = widget.neuron_graph(x1=3, x2=3, w1=20, w2=20, b=0, y=0)  # a = 120: confidently wrong
    assert graph["values"]["L"] == pytest.approx(120.0)
    assert graph["grads"]["a"] == pytest.approx(1.0)
    assert np.isfinite([graph["grads"][k] for k in LEAVES]).all()


def test_neuron_graph_rejects_a_label_outside_0_1():
    with pytest.raises(ValueError, match="label y must lie in \\[0, 1\\]; got 2.0"):
        widget.neuron_graph(1, 1, 1, 1, 0, 2)


def test_draw_neuron_graph_writes_every_value_and_gradient():
    ax = widget.draw_neuron_graph(x1=1.0, x2=-2.0, w1=0.5, w2=-0.3, b=0.1, y=1.0)
    texts = [t.get_text() for t in ax.texts]
    assert "∂L/∂w2 = 0.463" in texts and "∂L/∂a = -0.231" in texts
    assert "w1 = 0.5" in texts and "p = 0.769" in texts and "y = 1" in texts
    assert "L = 0.2633" in ax.get_title()


def test_neuron_graph_widget_has_a_control_per_input():
    pytest.importorskip("ipywidgets")
    w = widget.neuron_graph_widget()
    names = [c.description for c in w.children[:-1]]  # the last child is the output area
    assert names == ["x1", "x2", "w1", "w2", "b", "label"]


# -- decision boundaries over training ------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    x, y = moons(120, noise=0.1, rng=0)
    model = Sequential([Dense(2, 8, init="xavier_normal"), Tanh(), Dense(8, 1, init="xavier_normal")], rng=0)
    snapshots = {0: model.get_weights()}

    def save(model, epoch, logs):
        if epoch % 5 == 0:
            snapshots[epoch] = model.get_weights()

    model.fit(x, y, loss=BinaryCrossEntropyWithLogits(), optimizer=SGD(model.parameters(), lr=0.5),
              epochs=20, batch_size=16, rng=0, verbose=False, callbacks=[LambdaCallback(save)])
    return model, snapshots, x, y


def test_draw_snapshot_shows_the_saved_weights_and_leaves_the_model_alone(trained):
    model, snapshots, x, y = trained
    before = model.get_weights()
    (ax,) = widget.draw_snapshot(model, snapshots, 0, x, y, resolution=30)
    after = model.get_weights()
    assert all(np.array_equal(b[k], a[k]) for b, a in zip(before, after, strict=True) for k in b)
    # The title's accuracy is that of the epoch-0 weights, not of the trained model.
    initial = Sequential([Dense(2, 8), Tanh(), Dense(8, 1)]).set_weights(snapshots[0])
    expected = np.mean(initial.predict_classes(x) == y)
    assert ax.get_title() == f"epoch 0: accuracy {expected:.3f}"
    assert widget.draw_snapshot(model, snapshots, 20, x, y, resolution=30)[0].get_title() != ax.get_title()


def test_draw_snapshot_with_history_marks_the_epoch(trained):
    model, snapshots, x, y = trained
    axes = widget.draw_snapshot(model, snapshots, 10, x, y, history=model.history_, resolution=30)
    assert len(axes) == 2
    marker = [line for line in axes[1].lines if line.get_label() == "epoch 10"]
    assert marker and marker[0].get_xdata()[0] == 10


def test_draw_snapshot_errors_name_the_problem(trained):
    model, snapshots, x, y = trained
    with pytest.raises(ValueError, match=r"No snapshot saved at epoch 7; saved epochs: \[0, 5, 10, 15, 20\]"):
        widget.draw_snapshot(model, snapshots, 7, x, y)
    with pytest.raises(TypeError, match="snapshots must be a dict"):
        widget.draw_snapshot(model, [snapshots[0]], 0, x, y)
    with pytest.raises(ValueError, match="snapshots is empty"):
        widget.draw_snapshot(model, {}, 0, x, y)
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="needs 2 Axes"):
        widget.draw_snapshot(model, snapshots, 0, x, y, history=model.history_, axes=[ax])


def test_snapshot_slider_steps_through_the_saved_epochs(trained):
    pytest.importorskip("ipywidgets")
    model, snapshots, x, y = trained
    w = widget.snapshot_slider(model, snapshots, x, y, history=model.history_)
    slider = w.children[0]
    assert list(slider.options) == [0, 5, 10, 15, 20] and slider.value == 0
