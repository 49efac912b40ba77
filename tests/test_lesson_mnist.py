"""Lesson 08 (MNIST): augmentation (nnlearn.augment), saliency and feature visualisation
(nnlearn.interpret), and the drawing functions and widget of nnlearn.widgets.mnist."""

import numpy as np
import pytest

from nnlearn.augment import affine, random_shift_rotate
from nnlearn.interpret import (
    ascent_step,
    class_saliency,
    input_gradient,
    saliency,
    visualize_class,
)
from nnlearn.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from nnlearn.model import Sequential
from nnlearn.widgets import mnist as W


def _cnn(rng=0):
    return Sequential([Conv2D(1, 3, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Dropout(0.3),
                       Dense(3 * 14 * 14, 10)], rng=rng)


# -- augmentation -------------------------------------------------------------------------------------
def test_affine_identity_integer_shift_and_quarter_turn():
    rng = np.random.default_rng(0)
    x = rng.random((3, 2, 9, 9)).astype(np.float32)
    np.testing.assert_allclose(affine(x, np.zeros(3), np.zeros((3, 2))), x, atol=1e-6)
    moved = affine(x, np.zeros(3), np.tile([2.0, -1.0], (3, 1)))  # 2 rows down, 1 column left
    np.testing.assert_allclose(moved[:, :, 2:, :-1], x[:, :, :-2, 1:], atol=1e-6)
    assert np.all(moved[:, :, :2] == 0) and np.all(moved[:, :, :, -1] == 0)  # uncovered -> background
    turned = affine(x, np.full(3, np.pi / 2), np.zeros((3, 2)))  # counter-clockwise on screen
    np.testing.assert_allclose(turned, np.rot90(x, k=1, axes=(2, 3)), atol=1e-5)


def test_random_shift_rotate_is_seeded_bounded_and_keeps_the_ink():
    x = np.zeros((64, 1, 28, 28), dtype=np.float32)
    x[:, 0, 10:18, 12:16] = 1.0
    a, b = random_shift_rotate(x, rng=3), random_shift_rotate(x, rng=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1 + 1e-6
    np.testing.assert_allclose(a.sum(axis=(1, 2, 3)), x.sum(axis=(1, 2, 3)), rtol=0.05)  # ink area ~kept
    assert not np.allclose(a, x)
    np.testing.assert_allclose(random_shift_rotate(x, rng=0, max_shift=0, max_degrees=0), x, atol=1e-6)
    big = np.tile(x, (40, 1, 1, 1))  # more than one chunk of images
    np.testing.assert_allclose(random_shift_rotate(big, rng=1)[:64], affine(
        x, *_draws(1, len(big))), atol=1e-6)
    with pytest.raises(ValueError, match="'max_shift'"):
        random_shift_rotate(x, max_shift=-1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        affine(x[:, 0], np.zeros(64), np.zeros((64, 2)))


def _draws(seed, N, max_shift=2.0, max_degrees=10.0):
    rng = np.random.default_rng(seed)
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, N))
    shift = rng.uniform(-max_shift, max_shift, (N, 2))
    return angle[:64], shift[:64]


# -- saliency and feature visualisation -----------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Sequential([Dense(12, 7), ReLU(), Dense(7, 4)], rng=0),
    lambda: _cnn(),
], ids=["mlp", "cnn"])
def test_input_gradient_matches_finite_differences(make):
    model = make().astype(np.float64)
    rng = np.random.default_rng(1)
    x = rng.random((3, 12)) if model.layers[0].__class__ is Dense else rng.random((3, 1, 28, 28))
    classes = np.array([0, 3, 1])
    grad = input_gradient(model, x, classes)
    assert grad.shape == x.shape
    h = 1e-6
    for _ in range(6):
        index = tuple(int(rng.integers(s)) for s in x.shape)
        bump = np.zeros_like(x)
        bump[index] = h
        n = index[0]
        numeric = (model.predict(x + bump)[n, classes[n]] - model.predict(x - bump)[n, classes[n]]) / (2 * h)
        assert grad[index] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_saliency_is_in_eval_mode_and_restores_the_mode():
    model = _cnn().astype(np.float64)
    x = np.random.default_rng(2).random((2, 1, 28, 28))
    model.train()
    first, second = saliency(model, x, 4), saliency(model, x, 4)  # dropout off: deterministic
    np.testing.assert_array_equal(first, second)
    assert first.min() >= 0 and all(layer.training for layer in model.layers)
    with pytest.raises(ValueError, match=r"classes must be in \[0, 10\)"):
        input_gradient(model, x, 10)


def test_class_saliency_averages_each_class():
    model = Sequential([Dense(6, 5), ReLU(), Dense(5, 3)], rng=0).astype(np.float64)
    x = np.random.default_rng(3).random((7, 6))
    y = np.array([0, 2, 2, 0, 1, 2, 0])
    result = class_saliency(model, x, y, num_classes=4, batch_size=3)
    assert result.shape == (4, 6)
    for c in range(3):
        np.testing.assert_allclose(result[c], saliency(model, x[y == c], c).mean(axis=0))
    np.testing.assert_array_equal(result[3], 0)  # a class without images


def test_ascent_step_and_visualize_class_raise_the_score():
    x, g = np.array([0.2, 0.9, 0.5]), np.array([1.0, 2.0, -10.0])
    np.testing.assert_allclose(ascent_step(x, g, lr=0.1, l2=0.5), [0.29, 1.0, 0.0 + 0.0])
    model = _cnn()
    start = np.clip(0.1 + 0.05 * np.random.default_rng(5).standard_normal((1, 1, 28, 28)), 0, 1)
    dream = visualize_class(model, 7, steps=20, lr=0.1, l2=0.05, rng=5)
    assert dream.shape == (1, 28, 28) and 0 <= dream.min() and dream.max() <= 1
    assert model.predict(dream[None])[0, 7] > model.predict(start.astype(np.float32))[0, 7]


# -- drawing and the widget ------------------------------------------------------------------------
def test_draw_prediction_shows_probabilities_and_saliency():
    model = _cnn()
    image = np.random.default_rng(4).random((1, 28, 28)).astype(np.float32)
    axes, p = W.draw_prediction(model, image, label=3)
    assert p.shape == (10,) and p.sum() == pytest.approx(1)
    predicted = int(p.argmax())
    assert axes[0].get_title() == f"predicted {predicted} (true 3)"
    bars = axes[1].patches
    assert len(bars) == 10 and bars[predicted].get_height() == pytest.approx(p[predicted])
    assert bars[3].get_linewidth() == 2
    assert axes[2].get_title() == f"saliency of class {predicted}"
    np.testing.assert_allclose(axes[2].images[0].get_array(), saliency(model, image[None], predicted)[0, 0])
    flat_model = Sequential([Dense(784, 10)], rng=0)
    _, p_flat = W.draw_prediction(flat_model, image.reshape(784))  # flat inputs work too
    assert p_flat.shape == (10,)


def test_show_digits_layout_and_errors():
    fig = W.show_digits(np.zeros((12, 784)), [str(i) for i in range(12)], columns=5)
    axes = fig.axes
    assert len(axes) == 15 and axes[11].get_title() == "11" and not axes[12].images
    with pytest.raises(ValueError, match="square"):
        W.show_digits(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="at least one"):
        W.show_digits(np.zeros((0, 784)))


def test_digit_widget_builds_and_redraws():
    pytest.importorskip("ipywidgets")
    x = np.random.default_rng(6).random((5, 1, 28, 28)).astype(np.float32)
    widget = W.digit_widget(_cnn(), x, np.arange(5), index=2)
    slider = widget.children[0]
    assert slider.value == 2 and slider.max == 4
    slider.value = 4  # redraws without error
    widget.update()
    with pytest.raises(ValueError, match="'index'"):
        W.digit_widget(_cnn(), x, index=5)
