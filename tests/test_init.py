"""Initialisers draw with the documented variance; seeds reproduce; bad arguments are named."""

import numpy as np
import pytest

from nnlearn.init import as_rng, get_initializer, he_normal, he_uniform, xavier_normal, xavier_uniform
from nnlearn.layers import Dense, Dropout
from nnlearn.model import Sequential


@pytest.mark.parametrize("init, variance", [
    (he_normal, lambda fan_in, fan_out: 2 / fan_in),
    (he_uniform, lambda fan_in, fan_out: 2 / fan_in),
    (xavier_normal, lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
    (xavier_uniform, lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
])
def test_variance_follows_the_formula(init, variance):
    w = init((400, 300), rng=0)
    assert w.shape == (400, 300) and w.dtype == np.float32
    assert abs(w.mean()) < 0.01 * w.std()
    assert w.var() == pytest.approx(variance(400, 300), rel=0.02)


def test_he_keeps_relu_activations_alive_through_depth():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 256)).astype(np.float32)
    for _ in range(20):
        x = np.maximum(x @ he_normal((256, 256), rng), 0)
    assert 0.3 < x.std() < 3  # neither vanished nor exploded after 20 ReLU layers


def test_seeds_reproduce_and_generators_continue():
    np.testing.assert_array_equal(he_normal((3, 4), rng=7), he_normal((3, 4), rng=7))
    rng = as_rng(7)
    assert as_rng(rng) is rng
    assert not np.array_equal(he_normal((3, 4), rng), he_normal((3, 4), rng))


def test_one_seed_reproduces_a_whole_model():
    def build():
        return Sequential([Dense(4, 8), Dropout(0.5), Dense(8, 2)], rng=3)

    a, b = build(), build()
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        for key in wa:
            np.testing.assert_array_equal(wa[key], wb[key])
    x = np.ones((5, 4), np.float32)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))  # same dropout masks too


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="rng must be an int seed, a numpy.random.Generator or None; got str"):
        as_rng("seed")
    with pytest.raises(ValueError, match=r"shape must be \(fan_in, fan_out\) with both >= 1; got \(0, 3\)"):
        he_normal((0, 3))
    with pytest.raises(ValueError, match="Unknown initializer 'gaussian'"):
        get_initializer("gaussian")
