"""Layers inside layers: everything recurses through the layer tree (Residual, nested Sequential)."""

import copy

import numpy as np
import pytest

from nnlearn.gradcheck import check_layer, check_model
from nnlearn.layers import BatchNorm, Dense, Dropout, Layer, ReLU, Residual, Tanh
from nnlearn.losses import MSE, SoftmaxCrossEntropy
from nnlearn.model import Sequential
from nnlearn.optim import SGD, Adam

TOL = 1e-7


def nested(seed=0):
    """Dense -> Residual(Sequential(Dense, Tanh, Dropout, Dense)) -> Tanh -> BatchNorm -> Dense."""
    block = Sequential([Dense(6, 6), Tanh(), Dropout(0.5), Dense(6, 6)])
    return Sequential([Dense(3, 6), Residual(block), Tanh(), BatchNorm(6), Dense(6, 2)], rng=seed)


def test_residual_adds_its_input():
    inner = Dense(4, 4, rng=0)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(Residual(inner).forward(x), x + inner.forward(x), rtol=1e-6)


def test_residual_gradcheck():
    rng = np.random.default_rng(2)
    inner = Sequential([Dense(4, 4), Tanh(), Dense(4, 4)], rng=3)
    layer = Residual(inner).astype(np.float64)
    for _, layer_ in layer.named_layers():
        if "b" in layer_.params:
            layer_.params["b"][...] = rng.standard_normal(4)
    result = check_layer(layer, rng.standard_normal((5, 4)), rng=4)
    assert result.ok, repr(result)
    assert list(result.errors) == ["dx", "0.0.dw", "0.0.db", "0.2.dw", "0.2.db"]


def test_gradcheck_finds_a_bug_in_a_nested_layer():
    class HalfGradDense(Dense):
        def backward(self, dout, need_dx=True):
            dx = super().backward(dout, need_dx)
            self.grads["w"] *= 0.5
            return dx

    layer = Residual(Sequential([Tanh(), HalfGradDense(3, 3, rng=0)])).astype(np.float64)
    result = check_layer(layer, np.random.default_rng(5).standard_normal((4, 3)))
    assert not result.ok and result.array == "0.1.dw"


def test_nested_model_gradcheck_in_both_modes():
    rng = np.random.default_rng(6)
    model = nested().astype(np.float64)
    x, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    dropout = model.layers[1].layer.layers[2]
    dropout.fixed_mask = rng.random((8, 6)) < 0.5  # deterministic training forward
    result = check_model(model, SoftmaxCrossEntropy(), x, y)
    assert result.ok, repr(result)
    assert "layer 1.0.0 dw" in result.errors and "layer 3 dgamma" in result.errors
    assert check_model(model.eval(), SoftmaxCrossEntropy(), x, y).ok


def test_optimizer_sees_and_steps_nested_parameters():
    model = nested()
    pairs = model.parameters()
    inner_w = model.layers[1].layer.layers[0].params["w"]
    assert any(params["w"] is inner_w for params, _ in pairs if "w" in params)
    assert len(pairs) == 5  # 2 outer Dense, 2 inner Dense, BatchNorm
    assert model.num_params() == 3 * 6 + 6 + 2 * (6 * 6 + 6) + 2 * 6 + 6 * 2 + 2
    before = inner_w.copy()
    x = np.random.default_rng(7).standard_normal((16, 3)).astype(np.float32)
    loss = MSE()
    loss.forward(model.forward(x), np.zeros((16, 2), np.float32))
    model.backward(loss.backward(), need_dx=False)
    SGD(pairs, lr=0.1).step()
    assert not np.allclose(inner_w, before)
    assert model.layers[1].layer.layers[0].params["w"] is inner_w  # updated in place


def test_fit_trains_a_nested_model():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    model = Sequential([Dense(3, 16), Residual(Sequential([ReLU(), Dense(16, 16)])), ReLU(),
                        Dense(16, 2)], rng=0)
    model.fit(x, y, loss=SoftmaxCrossEntropy(), optimizer=Adam(model.parameters(), lr=0.02),
              epochs=60, batch_size=16, rng=0, verbose=False)
    assert model.history_["loss"][-1] < 0.5 * model.history_["loss"][0]


def test_weights_round_trip_through_nested_layers():
    model = nested()
    saved = model.get_weights()
    assert sorted(saved[1]) == ["0.0.b", "0.0.w", "0.3.b", "0.3.w"]
    assert saved[2] == {} and sorted(saved[3]) == ["beta", "gamma", "running_mean", "running_var"]
    inner_w = model.layers[1].layer.layers[3].params["w"]
    inner_w += 1
    model.layers[3].buffers["running_mean"] += 1
    model.set_weights(saved)
    assert model.layers[1].layer.layers[3].params["w"] is inner_w  # in place
    np.testing.assert_array_equal(inner_w, saved[1]["0.3.w"])
    np.testing.assert_array_equal(model.layers[3].buffers["running_mean"], 0)
    other = nested(seed=1).set_weights(saved)  # a second model with the same architecture
    x = np.random.default_rng(9).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_set_weights_names_missing_keys_and_wrong_shapes():
    layer = Residual(Dense(3, 3))
    with pytest.raises(ValueError, match=r"keys \['0.b', '0.w'\]"):
        layer.set_weights({"0.w": np.zeros((3, 3))})
    with pytest.raises(ValueError, match=r"'0.w' must have shape \(3, 3\); got \(3, 4\)"):
        layer.set_weights({"0.w": np.zeros((3, 4)), "0.b": np.zeros(3)})


def test_train_and_eval_reach_nested_dropout():
    model = nested()
    dropout = model.layers[1].layer.layers[2]
    model.eval()
    assert not dropout.training and not model.training
    x = np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(model.forward(x), model.forward(x))  # no dropout in eval
    model.train()
    assert dropout.training and all(layer.training for _, layer in model.named_layers())


def test_astype_recurses():
    model = nested().astype(np.float64)
    assert model.dtype == np.float64
    for _, layer in model.named_layers():
        for store in (layer.params, layer.grads, layer.buffers):
            assert all(value.dtype == np.float64 for value in store.values())
    assert Residual(ReLU()).dtype is None and Sequential([ReLU()]).dtype == np.float32


def test_reset_parameters_recurses_and_is_reproducible():
    a, b = nested(seed=3), nested(seed=4)
    b.reset_parameters(3)
    for (pa, _), (pb, _) in zip(a.parameters(), b.parameters(), strict=True):
        for key in pa:
            np.testing.assert_array_equal(pa[key], pb[key])
    inner = a.layers[1].layer.layers[0].params["w"]
    before = inner.copy()
    a.reset_parameters(5)
    assert not np.array_equal(inner, before)


def test_named_layers_paths_and_repr():
    model = nested()
    paths = [path for path, _ in model.named_layers()]
    assert paths == ["", "0", "1", "1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3", "2", "3", "4"]
    assert repr(Residual(Dense(2, 2))) == "Residual(Dense(2 -> 2))"
    copy.deepcopy(model).set_weights(model.get_weights())  # a deep copy keeps the structure


def test_a_custom_block_with_own_parameters_and_sublayers():
    class ScaledResidual(Layer):
        """out = x + s * f(x): an own parameter s and a sub-layer f."""

        def __init__(self, f):
            super().__init__()
            self.f, self.sublayers = f, [f]
            self.params = {"s": np.ones(1)}
            self.grads = {"s": np.zeros(1)}

        def reset_parameters(self, rng):
            self.params["s"][...] = 0.5
            super().reset_parameters(rng)

        def forward(self, x):
            self.fx = self.f.forward(x)
            return x + self.params["s"] * self.fx

        def backward(self, dout, need_dx=True):
            self.grads["s"][...] = np.sum(dout * self.fx)
            return dout + self.f.backward(dout * self.params["s"])

    block = ScaledResidual(Dense(3, 3)).astype(np.float64)
    block.reset_parameters(np.random.default_rng(0))
    assert block.params["s"][0] == 0.5 and block.num_params() == 1 + 12
    assert [pair[0] for pair in block.parameters()][0] is block.params  # self first, then children
    result = check_layer(block, np.random.default_rng(1).standard_normal((4, 3)))
    assert result.ok and list(result.errors) == ["dx", "ds", "0.dw", "0.db"]


def test_residual_rejects_shape_changes_and_non_layers():
    with pytest.raises(ValueError, match="keep the shape"):
        Residual(Dense(3, 4)).forward(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="Residual expects a Layer"):
        Residual(lambda x: x)
