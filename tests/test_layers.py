"""Layers: gradient checks (float64, max relative error < 1e-7), behaviour, PyTorch agreement."""

import warnings

import numpy as np
import pytest

from nnlearn.gradcheck import check_layer
from nnlearn.layers import (
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

TOL = 1e-7


def away_from_zero(rng, shape, margin=0.1):
    """Inputs with |x| >= margin, so finite differences never straddle a ReLU kink."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + margin, x - margin)


@pytest.mark.parametrize("shape", [(4, 3, 5), (1, 1, 1), (7, 10, 2)])
def test_dense_gradcheck(shape):
    n, d_in, d_out = shape
    rng = np.random.default_rng(0)
    layer = Dense(d_in, d_out, rng=1).astype(np.float64)
    layer.params["b"][...] = rng.standard_normal(d_out)  # non-zero bias
    result = check_layer(layer, rng.standard_normal((n, d_in)), rng=2)
    assert result.max_rel_error < TOL, str(result)


@pytest.mark.parametrize("make", [ReLU, lambda: LeakyReLU(0.1), Sigmoid, Tanh, Softmax],
                         ids=["relu", "leaky_relu", "sigmoid", "tanh", "softmax"])
def test_activation_layers_gradcheck(make):
    rng = np.random.default_rng(3)
    result = check_layer(make(), away_from_zero(rng, (5, 6)), rng=4)
    assert result.max_rel_error < TOL, str(result)


def test_dropout_gradcheck_with_fixed_mask():
    rng = np.random.default_rng(5)
    layer = Dropout(0.4)
    layer.fixed_mask = rng.random((6, 7)) > 0.4
    result = check_layer(layer, rng.standard_normal((6, 7)), rng=6)
    assert result.max_rel_error < TOL, str(result)


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 2, 2)], ids=["dense", "conv"])
def test_batchnorm_gradcheck_train_mode(shape):
    rng = np.random.default_rng(7)
    layer = BatchNorm(shape[1]).astype(np.float64)
    layer.params["gamma"][...] = rng.uniform(0.5, 1.5, shape[1])
    layer.params["beta"][...] = rng.standard_normal(shape[1])
    result = check_layer(layer, rng.standard_normal(shape) * 3 + 1, rng=8)
    assert result.max_rel_error < TOL, str(result)


def test_batchnorm_gradcheck_eval_mode():
    rng = np.random.default_rng(9)
    layer = BatchNorm(4).astype(np.float64)
    layer.buffers["running_mean"][...] = rng.standard_normal(4)
    layer.buffers["running_var"][...] = rng.uniform(0.5, 2, 4)
    layer.eval()
    result = check_layer(layer, rng.standard_normal((6, 4)), rng=10)
    assert result.max_rel_error < TOL, str(result)


def test_flatten_gradcheck_and_shapes():
    rng = np.random.default_rng(11)
    layer = Flatten()
    x = rng.standard_normal((2, 3, 4, 5))
    assert layer.forward(x).shape == (2, 60)
    assert layer.backward(np.ones((2, 60))).shape == (2, 3, 4, 5)
    assert check_layer(layer, x, rng=12).max_rel_error < TOL


def test_dense_first_layer_can_skip_input_gradient():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, rng=0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dout = rng.standard_normal((4, 2)).astype(np.float32)
    layer.forward(x)
    dx = layer.backward(dout)
    dw = layer.grads["w"].copy()
    assert layer.backward(dout, need_dx=False) is None
    np.testing.assert_array_equal(layer.grads["w"], dw)
    assert dx.shape == x.shape


def test_dense_writes_gradients_in_place_and_keeps_float32():
    layer = Dense(3, 2, rng=0)
    grad_w = layer.grads["w"]
    out = layer.forward(np.ones((4, 3), dtype=np.float64))  # float64 input is cast, not upcast
    assert out.dtype == np.float32
    layer.backward(np.ones((4, 2), dtype=np.float32))
    assert layer.grads["w"] is grad_w
    assert grad_w.dtype == np.float32


def test_dense_rejects_wrong_width_and_rank():
    layer = Dense(784, 10, rng=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 784\); got \(32, 785\)"):
        layer.forward(np.zeros((32, 785), np.float32))
    with pytest.raises(ValueError, match=r"got \(784,\)"):
        layer.forward(np.zeros(784, np.float32))


def test_dense_rejects_bad_constructor_arguments():
    with pytest.raises(ValueError, match="'out_features' parameter of Dense must be an int >= 1. Got 0"):
        Dense(3, 0)
    with pytest.raises(ValueError, match="Unknown initializer 'he'"):
        Dense(3, 2, init="he")


def test_same_seed_same_weights():
    a, b, c = Dense(5, 4, rng=3), Dense(5, 4, rng=3), Dense(5, 4, rng=4)
    np.testing.assert_array_equal(a.params["w"], b.params["w"])
    assert not np.allclose(a.params["w"], c.params["w"])


def test_dropout_train_and_eval():
    x = np.ones((200, 500), dtype=np.float32)
    layer = Dropout(0.3, rng=0)
    out = layer.forward(x)
    assert out.dtype == np.float32
    assert abs((out == 0).mean() - 0.3) < 0.01  # about p of the units dropped
    assert abs(out.mean() - 1.0) < 0.01  # inverted scaling keeps the expectation
    np.testing.assert_array_equal(layer.backward(x) == 0, out == 0)  # same mask backward
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    with pytest.raises(ValueError, match=r"'p' parameter of Dropout must be a float in \[0, 1\). Got 1.0"):
        Dropout(1.0)


def test_batchnorm_normalises_and_tracks_running_statistics():
    rng = np.random.default_rng(0)
    layer = BatchNorm(3, momentum=0.5)
    x = (rng.standard_normal((500, 3)) * [1, 2, 3] + [4, 5, 6]).astype(np.float32)
    out = layer.forward(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)
    for _ in range(30):
        layer.forward(x)
    np.testing.assert_allclose(layer.buffers["running_mean"], x.mean(axis=0), rtol=1e-4)
    layer.eval()
    single = layer.forward(x[:1])  # one sample works in eval mode
    assert single.shape == (1, 3)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\)"):
        layer.forward(np.zeros((4, 5), np.float32))


# --- PyTorch as an independent oracle ---------------------------------------------------------

def test_dense_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for n, d_in, d_out in [(7, 13, 5), (1, 4, 9), (32, 20, 20)]:
        layer = Dense(d_in, d_out, rng=rng).astype(np.float64)
        layer.params["b"][...] = rng.standard_normal(d_out)
        x, dout = rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
        linear = torch.nn.Linear(d_in, d_out).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.params["w"].T))
            linear.bias.copy_(torch.from_numpy(layer.params["b"]))
        xt = torch.from_numpy(x).requires_grad_()
        out_t = linear(xt)
        out_t.backward(torch.from_numpy(dout))
        np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-6, atol=1e-10)
        dx = layer.backward(dout)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(layer.grads["w"], linear.weight.grad.numpy().T, rtol=1e-6, atol=1e-10)
        np.testing.assert_allclose(layer.grads["b"], linear.bias.grad.numpy(), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("shape", [(16, 6), (5, 3, 4, 4)], ids=["1d", "2d"])
def test_batchnorm_matches_torch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    c = shape[1]
    layer = BatchNorm(c, momentum=0.1, eps=1e-5).astype(np.float64)
    bn = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(c, momentum=0.1, eps=1e-5).double()
    gamma, beta = rng.uniform(0.5, 1.5, c), rng.standard_normal(c)
    layer.params["gamma"][...], layer.params["beta"][...] = gamma, beta
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    for _ in range(3):  # running statistics evolve identically
        x, dout = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
        xt = torch.from_numpy(x).requires_grad_()
        out_t = bn(xt)
        out_t.backward(torch.from_numpy(dout))
        np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(layer.grads["gamma"], bn.weight.grad.numpy(), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(layer.grads["beta"], bn.bias.grad.numpy(), rtol=1e-6, atol=1e-9)
        bn.weight.grad = bn.bias.grad = None
    np.testing.assert_allclose(layer.buffers["running_mean"], bn.running_mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(layer.buffers["running_var"], bn.running_var.numpy(), rtol=1e-6)
    layer.eval()
    bn.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(layer.forward(x), bn(torch.from_numpy(x)).detach().numpy(), rtol=1e-6, atol=1e-9)


def test_relu_of_infinities_matches_torch_without_warnings():
    x = np.array([[-np.inf, -1.0, 0.0, 2.0, np.inf]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "invalid value encountered in multiply" would fail
        out = ReLU().forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0, 2.0, np.inf]])
    assert out.dtype == np.float32
    assert np.isnan(ReLU().forward(np.array([[np.nan]]))).all()  # NaN propagates, as in PyTorch
