"""The gradient checker itself: it must pass correct code and catch (and locate) wrong code."""

import re

import numpy as np
import pytest

from nnlearn.gradcheck import (
    GradcheckResult,
    PrecisionWarning,
    check_layer,
    check_loss,
    check_model,
    numerical_gradient,
    relative_error,
    relative_errors,
)
from nnlearn.losses import MSE, Loss, SoftmaxCrossEntropy

TOL = 1e-7


# -- toy layers following the Layer contract (independent of nnlearn.layers) ----------
class Affine:
    """out = x @ w + b, with an optional deliberate bug in backward."""

    def __init__(self, D, M, rng, bug=None, dtype=np.float64):
        self.params = {
            "w": rng.standard_normal((D, M)).astype(dtype),
            "b": rng.standard_normal(M).astype(dtype),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {}
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.params["w"] + self.params["b"]  # (N, D) x (D, M) -> (N, M)

    def backward(self, dout, need_dx=True):
        self.grads["w"][...] = self.x.T @ dout  # (D, N) x (N, M) -> (D, M)
        self.grads["b"][...] = dout.sum(axis=0) if self.bug != "db" else dout.mean(axis=0)
        if self.bug == "one entry":
            self.grads["w"][1, 2] *= 1.5
        dx = dout @ self.params["w"].T  # (N, M) x (M, D) -> (N, D)
        return dx if self.bug != "dx" else dx * 0.5


class Tanh:
    def __init__(self):
        self.params, self.grads, self.buffers = {}, {}, {}

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout, need_dx=True):
        return dout * (1 - self.out**2)


class FixedDropout:
    """Dropout whose mask is fixed by the caller: deterministic, so checkable."""

    def __init__(self, mask, keep):
        self.params, self.grads, self.buffers = {}, {}, {}
        self.scaled_mask = mask / keep

    def forward(self, x):
        return x * self.scaled_mask

    def backward(self, dout, need_dx=True):
        return dout * self.scaled_mask


class RandomDropout(FixedDropout):
    def __init__(self, rng):
        self.params, self.grads, self.buffers = {}, {}, {}
        self.rng = rng

    def forward(self, x):
        self.scaled_mask = (self.rng.random(x.shape) < 0.5) * 2.0
        return x * self.scaled_mask


class RunningMean:
    """Identity that, like BatchNorm, updates a buffer on every forward."""

    def __init__(self):
        self.params, self.grads = {}, {}
        self.buffers = {"running_mean": np.zeros(3)}

    def forward(self, x):
        self.buffers["running_mean"] = 0.9 * self.buffers["running_mean"] + 0.1 * x.mean(axis=0)
        return x

    def backward(self, dout, need_dx=True):
        return dout


class TinyModel:
    """A minimal Sequential: forward/backward through layers, parameters() as (params, grads)."""

    def __init__(self, layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        return [(layer.params, layer.grads) for layer in self.layers if layer.params]


class NoLayersModel:
    """Only the model contract: no ``layers`` attribute, and no dx from backward."""

    def __init__(self, stack):
        self.stack = stack

    def forward(self, x):
        for layer in self.stack:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.stack):
            dout = layer.backward(dout)
        return None

    def parameters(self):
        return [(layer.params, layer.grads) for layer in self.stack if layer.params]


# -- numerical_gradient and relative_error --------------------------------------------------
def test_numerical_gradient_of_a_quadratic_and_x_restored():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda: 0.5 * np.sum(x**2) + np.sum(x), x)
    np.testing.assert_allclose(grad, x + 1, rtol=1e-8)
    np.testing.assert_array_equal(x, before)  # restored bit for bit


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_needs_a_float_array():
    with pytest.raises(TypeError, match="float ndarray; got int64"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(TypeError, match="got list"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(1 / 3)
    # A tiny entry with rounding noise does not blow up (cs231n's elementwise
    # definition would give 1e-12 / 2e-12 = 0.5 here) ...
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) < 1e-11
    # ... while a wrong small entry is still caught.
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-4])) > 1e-5
    assert relative_error(np.array([1.0, np.nan]), np.array([1.0, 1.0])) == np.inf
    assert relative_errors(np.ones((2, 3)), np.ones((2, 3))).shape == (2, 3)
    with pytest.raises(ValueError, match=r"same shape; got analytic \(2,\) and numeric \(3,\)"):
        relative_error(np.zeros(2), np.zeros(3))


# -- check_layer ---------------------------------------------------------------------------
def test_correct_layer_passes():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    result = check_layer(Affine(4, 3, rng), x, rng=2)
    assert result.ok and bool(result)
    assert result.max_rel_error < TOL
    assert set(result.errors) == {"dx", "dw", "db"}
    assert str(result).startswith("gradcheck OK: max relative error ")
    assert re.search(r"\((dx|dw|db)\[\d+(, \d+)?\]\)$", str(result))
    assert result.raise_if_failed() is result
    assert "dw" in repr(result) and "FAILED" not in repr(result)


def test_caller_arrays_are_untouched():
    rng = np.random.default_rng(1)
    layer, x = Affine(4, 3, rng), rng.standard_normal((5, 4))
    w, x_before = layer.params["w"].copy(), x.copy()
    check_layer(layer, x)
    np.testing.assert_array_equal(layer.params["w"], w)
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize(
    "bug, array", [("db", "db"), ("dx", "dx"), ("one entry", "dw")], ids=["db", "dx", "dw[1, 2]"]
)
def test_wrong_backward_is_caught_and_located(bug, array):
    rng = np.random.default_rng(3)
    result = check_layer(Affine(4, 3, rng, bug=bug), rng.standard_normal((6, 4)), rng=4)
    assert not result.ok and not result
    assert result.array == array
    assert result.max_rel_error > 1e-2
    assert result.errors[array] == result.max_rel_error
    if bug == "one entry":
        assert result.where == "dw[1, 2]" and result.index == (1, 2)
        assert result.analytic == pytest.approx(1.5 * result.numeric)
        assert result.errors["dx"] < TOL and result.errors["db"] < TOL
    message = str(result)
    assert message.startswith(f"gradcheck FAILED: max relative error {result.max_rel_error:.2g}")
    assert f"at {result.where} (analytic " in message and ", numeric " in message
    with pytest.raises(AssertionError, match=rf"FAILED.*at {re.escape(result.where)}"):
        result.raise_if_failed()
    assert f"{array}  " in repr(result) and "<-- FAILED" in repr(result)


def test_report_format():
    result = GradcheckResult(0.5, "db", (3,), 0.12, 0.24, {"dx": 1e-10, "db": 0.5})
    assert str(result) == (
        "gradcheck FAILED: max relative error 0.5 at db[3] (analytic 0.12, numeric 0.24); "
        "tolerance 1e-07"
    )
    assert repr(result).splitlines()[1:] == ["  dx  1e-10", "  db  0.5  <-- FAILED"]
    ok = GradcheckResult(3.1e-10, "dw", (2, 5), 0.3, 0.3, {"dw": 3.1e-10})
    assert str(ok) == "gradcheck OK: max relative error 3.1e-10 (dw[2, 5])"
    assert GradcheckResult(0.0, "dx", (), 1.0, 1.0).where == "dx"


def test_layer_without_parameters_and_fixed_dropout_mask():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6))
    assert check_layer(Tanh(), x).max_rel_error < TOL
    dropout = FixedDropout(rng.random((4, 6)) < 0.5, keep=0.5)
    result = check_layer(dropout, x, rng=6)
    assert result.ok and list(result.errors) == ["dx"]


def test_random_forward_is_refused():
    rng = np.random.default_rng(7)
    with pytest.raises(ValueError, match="deterministic forward.*RandomDropout"):
        check_layer(RandomDropout(rng), rng.standard_normal((4, 6)))


def test_buffers_are_restored():
    layer = RunningMean()
    check_layer(layer, np.ones((2, 3)))
    np.testing.assert_array_equal(layer.buffers["running_mean"], np.zeros(3))


def test_float32_warns():
    rng = np.random.default_rng(8)
    layer = Affine(4, 3, rng, dtype=np.float32)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    with pytest.warns(PrecisionWarning, match=r"x is float32.*astype\(np.float64\)"):
        check_layer(layer, x)
    with pytest.warns(PrecisionWarning, match=r"params\['w'\] is float32"):
        check_layer(layer, x.astype(np.float64))
    with pytest.warns(PrecisionWarning, match="out is float32"):
        check_loss(MSE(), np.zeros((2, 2), np.float32), np.ones((2, 2)))


def test_bad_layer_contract():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 4))
    with pytest.raises(TypeError, match="x to be a float array; got dtype int64"):
        check_layer(Affine(4, 3, rng), np.ones((5, 4), dtype=np.int64))

    class NoDx(Affine):
        def backward(self, dout, need_dx=True):
            super().backward(dout)

    with pytest.raises(ValueError, match="returned None instead of dx"):
        check_layer(NoDx(4, 3, rng), x)

    class WrongShape(Affine):
        def backward(self, dout, need_dx=True):
            return super().backward(dout).T

    with pytest.raises(ValueError, match=r"dx has shape \(4, 5\).*shape \(5, 4\)"):
        check_layer(WrongShape(4, 3, rng), x)


# -- check_loss and check_model ------------------------------------------------------------
class HalfGradientMSE(Loss):
    """Forgets the 2 of d(u**2)/du: a classic mistake."""

    def forward(self, out, y):
        self._cache = (out - y,)
        return float(np.mean((out - y) ** 2))

    def backward(self):
        (diff,) = self._cached()
        return diff / diff.size


def test_check_loss():
    rng = np.random.default_rng(10)
    out, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert check_loss(MSE(), out, y).ok
    bad = check_loss(HalfGradientMSE(), out, y)
    assert not bad.ok and bad.array == "dout"
    assert bad.analytic == pytest.approx(bad.numeric / 2)
    out_before = out.copy()
    check_loss(MSE(), out, y)
    np.testing.assert_array_equal(out, out_before)


def test_check_model_names_arrays_after_layers():
    rng = np.random.default_rng(11)
    model = TinyModel([Affine(3, 5, rng), Tanh(), Affine(5, 4, rng)])
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
    result = check_model(model, SoftmaxCrossEntropy(), x, y)
    assert result.ok, repr(result)
    assert list(result.errors) == ["dx", "layer 0 dw", "layer 0 db", "layer 2 dw", "layer 2 db"]

    model.layers[2].bug = "one entry"
    bad = check_model(model, SoftmaxCrossEntropy(), x, y)
    assert not bad.ok and bad.where == "layer 2 dw[1, 2]"
    assert "at layer 2 dw[1, 2]" in str(bad)


def test_check_model_without_layers_attribute():
    rng = np.random.default_rng(12)
    model = NoLayersModel([Affine(3, 5, rng), Tanh(), Affine(5, 2, rng, bug="db")])
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    result = check_model(model, MSE(), x, y)
    assert list(result.errors) == ["group 0 dw", "group 0 db", "group 1 dw", "group 1 db"]
    assert result.array == "group 1 db" and not result.ok


def test_check_model_refuses_random_forward():
    rng = np.random.default_rng(13)
    model = TinyModel([Affine(3, 4, rng), RandomDropout(rng)])
    with pytest.raises(ValueError, match="deterministic forward"):
        check_model(model, MSE(), rng.standard_normal((5, 3)), np.zeros((5, 4)))
