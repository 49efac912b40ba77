"""Lesson 04 (optimizers): the surfaces, paths and widget of nnlearn.widgets.optimizers, and the
exercise references checked against nnlearn.optim (the optimizers the lesson uses)."""

import warnings

import numpy as np
import pytest

from nnlearn.exercises.registry import get_exercise
from nnlearn.layers import Dropout
from nnlearn.optim import SGD, Adam, RMSprop, clip_grad_norm
from nnlearn.widgets import optimizers as W


# -- surfaces ---------------------------------------------------------------------------------
@pytest.mark.parametrize("surface", [W.QUADRATIC, W.ROSENBROCK], ids=lambda s: s.name.split()[0])
def test_gradient_matches_central_differences(surface):
    rng = np.random.default_rng(0)
    for w in rng.uniform(-1.5, 1.5, size=(5, 2)):
        h = 1e-6
        numeric = np.array([(surface.loss(w + e) - surface.loss(w - e)) / (2 * h) for e in np.eye(2) * h])
        np.testing.assert_allclose(surface.grad(w), numeric, rtol=1e-6, atol=1e-6)
    assert surface.loss(np.array(surface.minimum)) == pytest.approx(0.0)


def test_loss_takes_one_point_or_many():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])  # (3, 2)
    np.testing.assert_allclose(W.QUADRATIC.loss(points), [0.5, 0.5 * W.CONDITION, 2 + 2 * W.CONDITION])
    assert np.ndim(W.QUADRATIC.loss(points[0])) == 0


# -- trajectory -------------------------------------------------------------------------------
def test_sgd_path_on_the_quadratic_is_geometric():
    lr, K = 0.03, 20
    path = W.trajectory(W.QUADRATIC, lambda pairs: SGD(pairs, lr=lr), steps=K)
    assert path.shape == (K + 1, 2) and path.dtype == np.float64
    factors = np.array([1 - lr, 1 - lr * W.CONDITION])  # (1 - lr h_i) per coordinate
    expected = np.array(W.QUADRATIC.start) * factors ** np.arange(K + 1)[:, None]  # (K + 1, 2)
    np.testing.assert_allclose(path, expected, rtol=1e-12)


def test_diverging_path_stops_early_without_warnings():
    make = lambda pairs: SGD(pairs, lr=1.0)  # noqa: E731  (|1 - 50 lr| = 49: explodes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        path = W.trajectory("quadratic", make, steps=500, limit=1e3)
        assert len(path) < 501
        assert np.abs(path[-1]).max() > 1e3 and np.all(np.abs(path[:-1]) <= 1e3)
        overflowed = W.trajectory("quadratic", make, steps=500, limit=np.inf)  # runs to inf, then NaN
        assert len(overflowed) < 501 and not np.all(np.isfinite(overflowed[-1]))
        ax = W.draw_trajectories(W.QUADRATIC, {"SGD": overflowed}, steps=500)
    assert ax.get_legend().get_texts()[0].get_text() == f"SGD: diverged at step {len(overflowed) - 1}"


def test_noise_is_reproducible_and_start_can_change():
    make = lambda pairs: SGD(pairs, lr=0.01)  # noqa: E731
    a = W.trajectory(W.QUADRATIC, make, 10, noise=1.0, rng=3)
    b = W.trajectory(W.QUADRATIC, make, 10, noise=1.0, rng=3)
    c = W.trajectory(W.QUADRATIC, make, 10, noise=1.0, rng=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert W.trajectory(W.QUADRATIC, make, 0, start=(1.0, 2.0)).tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": -1}, "'steps'"),
    ({"steps": 2.5}, "'steps'"),
    ({"steps": 3, "start": (1.0, 2.0, 3.0)}, "'start'"),
    ({"steps": 3, "surface": "banana"}, "'surface'"),
])
def test_trajectory_rejects_bad_arguments(kwargs, match):
    kwargs = {"surface": W.QUADRATIC, **kwargs}
    with pytest.raises(ValueError, match=match):
        W.trajectory(make_optimizer=lambda pairs: SGD(pairs, lr=0.1), **kwargs)


# -- drawing and the widget -----------------------------------------------------------------------
def test_draw_trajectories_labels_diverged_and_finished_paths():
    good = W.trajectory(W.QUADRATIC, lambda pairs: Adam(pairs, lr=0.3), 30)
    bad = W.trajectory(W.QUADRATIC, lambda pairs: SGD(pairs, lr=0.3), 30)
    ax = W.draw_trajectories(W.QUADRATIC, {"Adam": good, "SGD": bad}, steps=30)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0].startswith("Adam: L = ") and labels[1] == f"SGD: diverged at step {len(bad) - 1}"
    assert ax.get_xlim() == W.QUADRATIC.x_range and ax.get_ylim() == W.QUADRATIC.y_range


def test_compare_optimizers_draws_one_path_per_optimizer():
    ax = W.compare_optimizers(["SGD", "Adam"], lr=0.01, steps=5, surface="rosenbrock")
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert [label.split(":")[0] for label in labels] == ["SGD", "Adam"]
    assert "lr = 0.01" in ax.get_title()
    with pytest.raises(ValueError, match="'names'"):
        W.compare_optimizers(["Adagrad"])


def test_widget_builds_redraws_and_resets_lr_per_surface():
    pytest.importorskip("ipywidgets")
    widget = W.optimizer_widget(names=["SGD"], steps=10)
    controls = {child.description: child for child in widget.children[:-1]}
    assert controls["lr"].value == pytest.approx(W.QUADRATIC.lr)
    controls["surface"].value = "rosenbrock"  # redraws, and the lr follows the surface
    assert controls["lr"].value == pytest.approx(W.ROSENBROCK.lr, rel=0.15)  # the slider snaps to its grid
    widget.update()
    with pytest.raises(ValueError, match="'surface'"):
        W.optimizer_widget(surface="banana")


# -- the exercise references agree with the library -------------------------------------------------
def _library_path(cls, steps, **options):
    return W.trajectory(W.QUADRATIC, lambda pairs: cls(pairs, **options), steps)


def test_update_references_reproduce_nnlearn_optimizers():
    grad, K = W.QUADRATIC.grad, 30
    momentum = get_exercise("optimizers.sgd_momentum_update").reference
    rmsprop = get_exercise("optimizers.rmsprop_update").reference
    adam = get_exercise("optimizers.adam_update").reference

    w, v, path = np.array(W.QUADRATIC.start), np.zeros(2), [np.array(W.QUADRATIC.start)]
    for _ in range(K):
        w, v = momentum(w, grad(w), v, lr=0.01, beta=0.9)
        path.append(w)
    np.testing.assert_allclose(path, _library_path(SGD, K, lr=0.01, momentum=0.9), rtol=1e-10, atol=1e-12)

    w, s, path = np.array(W.QUADRATIC.start), np.zeros(2), [np.array(W.QUADRATIC.start)]
    for _ in range(K):
        w, s = rmsprop(w, grad(w), s, lr=0.05, alpha=0.9, eps=1e-8)
        path.append(w)
    np.testing.assert_allclose(path, _library_path(RMSprop, K, lr=0.05, alpha=0.9), rtol=1e-10, atol=1e-12)

    w, m, v, path = np.array(W.QUADRATIC.start), np.zeros(2), np.zeros(2), [np.array(W.QUADRATIC.start)]
    for t in range(1, K + 1):
        w, m, v = adam(w, grad(w), m, v, t, lr=0.2, beta1=0.9, beta2=0.999, eps=1e-8)
        path.append(w)
    np.testing.assert_allclose(path, _library_path(Adam, K, lr=0.2), rtol=1e-9, atol=1e-12)


def test_dropout_and_clip_references_match_the_library():
    rng = np.random.default_rng(1)
    x, dout, mask = rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), rng.random((3, 5)) >= 0.4
    layer = Dropout(p=0.4)
    layer.fixed_mask = mask
    np.testing.assert_allclose(get_exercise("optimizers.dropout_forward").reference(x, mask, 0.4), layer.forward(x))
    np.testing.assert_allclose(get_exercise("optimizers.dropout_backward").reference(dout, mask, 0.4),
                               layer.backward(dout))

    grads = [rng.standard_normal((4, 3)) * 5, rng.standard_normal(3) * 5]
    clipped, norm = get_exercise("optimizers.clip_by_global_norm").reference(grads, 2.0)
    library = [g.copy() for g in grads]
    pairs = [({"w": np.zeros((4, 3)), "b": np.zeros(3)}, {"w": library[0], "b": library[1]})]
    assert clip_grad_norm(pairs, 2.0) == pytest.approx(norm)
    for mine, theirs in zip(clipped, library, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5)
    assert np.sqrt(sum(np.sum(g**2) for g in clipped)) == pytest.approx(2.0)


def test_warmup_cosine_reference_matches_the_formula():
    lr_of = get_exercise("optimizers.warmup_cosine_lr").reference
    lrs = [lr_of(k, lr=0.1, warmup_steps=10, total_steps=40, min_lr=0.01) for k in range(50)]
    assert lrs[0] == pytest.approx(0.01) and lrs[9] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.1)
    assert lrs[25] == pytest.approx(0.01 + 0.09 / 2) and lrs[40:] == pytest.approx([0.01] * 10)
    assert np.all(np.diff(lrs[:10]) > 0) and np.all(np.diff(lrs[10:41]) < 0)


def test_a_diverging_path_is_drawn_up_to_the_edge_of_the_view():
    path = W.trajectory(W.QUADRATIC, lambda pairs: SGD(pairs, lr=0.3), steps=50)
    x_range, y_range = W.QUADRATIC.x_range, W.QUADRATIC.y_range
    height = y_range[1] - y_range[0]
    shown = W.clip_to_view(path, x_range, y_range)
    assert 2 <= len(shown) < len(path)
    assert np.all(np.abs(shown[:, 1]) <= y_range[1] + height)  # nothing far away is drawn
    assert np.isclose(np.abs(shown[-1, 1]), y_range[1])  # it ends on the edge it crosses
    np.testing.assert_array_equal(shown[:-1], path[: len(shown) - 1])
    ax = W.draw_trajectories(W.QUADRATIC, {"SGD": path}, steps=50)
    for line in ax.get_lines():
        assert np.all(np.abs(np.asarray(line.get_data()[1], dtype=float)) <= y_range[1] + height)


def test_a_path_that_leaves_the_view_and_comes_back_is_drawn_whole():
    path = W.trajectory(W.QUADRATIC, lambda pairs: RMSprop(pairs, lr=0.4), steps=50)  # first step: w2 = -2.5
    x_range, y_range = W.QUADRATIC.x_range, W.QUADRATIC.y_range
    assert path[1, 1] < y_range[0]
    np.testing.assert_array_equal(W.clip_to_view(path, x_range, y_range), path)
