"""Activation functions: values, derivatives (against numerical gradients), dtypes, stability."""

import warnings

import numpy as np
import pytest

from nnlearn import activations as A
from nnlearn.gradcheck import numerical_gradient, relative_error

TOL = 1e-7

# (function, its derivative, extra keyword arguments)
ELEMENTWISE = [
    (A.sigmoid, A.sigmoid_grad, {}),
    (A.tanh, A.tanh_grad, {}),
    (A.relu, A.relu_grad, {}),
    (A.leaky_relu, A.leaky_relu_grad, {}),
    (A.leaky_relu, A.leaky_relu_grad, {"alpha": 0.2}),
]
IDS = ["sigmoid", "tanh", "relu", "leaky_relu", "leaky_relu_0.2"]
ALL_FUNCTIONS = [
    A.sigmoid,
    A.sigmoid_grad,
    A.tanh,
    A.tanh_grad,
    A.relu,
    A.relu_grad,
    A.leaky_relu,
    A.leaky_relu_grad,
    A.softmax,
    A.log_softmax,
    A.logsumexp,
]


def no_overflow():
    """Overflow, invalid operations and division by zero raise; underflow to 0 is harmless."""
    return np.errstate(all="raise", under="ignore")


def away_from_kink(rng, shape, margin=0.1):
    """Normal samples with |x| >= margin, so ReLU's kink at 0 is never crossed by +-eps."""
    x = rng.standard_normal(shape) * 2
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


def test_sigmoid_seed_values():
    np.testing.assert_allclose(
        A.sigmoid(np.array([-5.0, 0.0, 5.0])), [0.00669285, 0.5, 0.99330715], atol=1e-8
    )


def test_known_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(A.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(A.relu(x), [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(A.relu_grad(x), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(A.leaky_relu(x), [-0.02, -0.005, 0, 0.5, 2])
    np.testing.assert_allclose(A.leaky_relu_grad(x, alpha=0.1), [0.1, 0.1, 0.1, 1, 1])
    np.testing.assert_allclose(A.sigmoid_grad(0.0), 0.25)
    np.testing.assert_allclose(A.tanh_grad(0.0), 1.0)


@pytest.mark.parametrize("f, f_grad, kw", ELEMENTWISE, ids=IDS)
def test_grad_matches_numerical(f, f_grad, kw):
    rng = np.random.default_rng(0)
    x = away_from_kink(rng, (4, 6))
    dout = rng.standard_normal(x.shape)
    numeric = numerical_gradient(lambda: np.sum(f(x, **kw) * dout), x)
    assert relative_error(f_grad(x, **kw) * dout, numeric) < TOL


@pytest.mark.parametrize("shape, axis", [((5, 4), -1), ((5, 4), 0), ((2, 3, 4), 1)])
def test_softmax_backward_matches_numerical(shape, axis):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 2
    dout = rng.standard_normal(shape)
    numeric = numerical_gradient(lambda: np.sum(A.softmax(x, axis=axis) * dout), x)
    analytic = A.softmax_backward(A.softmax(x, axis=axis), dout, axis=axis)
    assert relative_error(analytic, numeric) < TOL


def test_logsumexp_gradient_is_softmax():
    x = np.random.default_rng(2).standard_normal((3, 5))
    numeric = numerical_gradient(lambda: np.sum(A.logsumexp(x)), x)
    assert relative_error(A.softmax(x), numeric) < TOL


def test_softmax_family_agree():
    x = np.random.default_rng(3).standard_normal((6, 7)) * 3
    s = A.softmax(x)
    np.testing.assert_allclose(s.sum(axis=-1), 1, rtol=1e-12)
    np.testing.assert_allclose(A.softmax(x, axis=0).sum(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(A.log_softmax(x), np.log(s), rtol=1e-12)
    np.testing.assert_allclose(A.logsumexp(x), np.log(np.exp(x).sum(axis=-1)), rtol=1e-12)
    assert A.logsumexp(x, keepdims=True).shape == (6, 1)
    assert A.logsumexp(x, axis=0, keepdims=True).shape == (1, 7)
    np.testing.assert_allclose(A.softmax(x + 100.0), s, rtol=1e-12)  # shift invariance


@pytest.mark.parametrize("f", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_dtypes(f):
    x = np.array([[-2, 0, 3], [1, 1, 1]])
    assert f(x.astype(np.float32)).dtype == np.float32  # no silent upcast
    assert f(x.astype(np.float64)).dtype == np.float64
    assert f(x).dtype == np.float64  # ints become floats
    assert f(x.tolist()).dtype == np.float64


def test_dtypes_of_leaky_relu_alpha_and_softmax_backward():
    x = np.array([[-2, 0, 3], [1, 1, 1]])
    assert A.leaky_relu(x.astype(np.float32), alpha=np.float64(0.1)).dtype == np.float32
    s = A.softmax(x.astype(np.float32))
    assert A.softmax_backward(s, np.ones_like(s)).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_stable_for_huge_inputs(dtype):
    x = np.array([-1e4, -800, -100, 0, 100, 800, 1e4], dtype=dtype)
    with no_overflow(), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = A.sigmoid(x)
        ds = A.sigmoid_grad(x)
    assert s.dtype == dtype and np.all(np.isfinite(s)) and np.all(np.isfinite(ds))
    assert s[0] == 0 and s[-1] == 1 and s[3] == 0.5
    assert np.all((s >= 0) & (s <= 1)) and np.all(np.diff(s) >= 0)
    assert ds[0] == 0 and ds[-1] == 0


def test_sigmoid_keeps_relative_precision_in_the_tail():
    # 1 / (1 + exp(-x)) is exp(x) to full precision for very negative x.
    np.testing.assert_allclose(A.sigmoid(np.array([-40.0, -700.0])), np.exp([-40.0, -700.0]))
    np.testing.assert_allclose(A.sigmoid_grad(np.array([40.0])), np.exp(-40.0), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_stable_for_huge_logits(dtype):
    x = np.array([[1e4, 0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, 0]], dtype=dtype)
    with no_overflow(), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = A.softmax(x)
        log_s = A.log_softmax(x)
        lse = A.logsumexp(x)
        t = A.tanh(x)
    for a in (s, log_s, lse, t):
        assert a.dtype == dtype and np.all(np.isfinite(a))
    np.testing.assert_allclose(s.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(s[0], [1, 0, 0])
    np.testing.assert_allclose(s[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(log_s[0], [0, -1e4, -2e4])
    np.testing.assert_allclose(lse[1], 1e4 + np.log(3), rtol=1e-6)


def test_logsumexp_of_all_minus_infinity():
    with no_overflow():
        assert A.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf


def test_softmax_backward_shape_mismatch():
    with pytest.raises(ValueError, match=r"dout of the same shape as s \(2, 3\); got \(3, 2\)"):
        A.softmax_backward(np.ones((2, 3)) / 3, np.ones((3, 2)))


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((5, 8)) * 3
    t = torch.tensor(x)
    np.testing.assert_allclose(A.sigmoid(x), torch.sigmoid(t).numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.tanh(x), torch.tanh(t).numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.relu(x), torch.relu(t).numpy())
    leaky = torch.nn.functional.leaky_relu(t, 0.2).numpy()
    np.testing.assert_allclose(A.leaky_relu(x, alpha=0.2), leaky, rtol=1e-12)
    np.testing.assert_allclose(A.softmax(x), torch.softmax(t, -1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.log_softmax(x, 0), torch.log_softmax(t, 0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(A.logsumexp(x), torch.logsumexp(t, -1).numpy(), rtol=1e-12)
