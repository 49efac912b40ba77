"""The scalar autograd engine: local rules, accumulation, order, and agreement with
central differences (nnlearn.gradcheck), the matrix gradients of Dense/Tanh, and PyTorch."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import nnlearn.autograd
from nnlearn import gradcheck
from nnlearn.autograd import Value, topological_order, zero_grad
from nnlearn.layers import Dense, Tanh
from nnlearn.losses import MSE
from nnlearn.model import Sequential


def test_docstring_example():
    assert doctest.testmod(nnlearn.autograd).failed == 0


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda a, b: a + b, (1.0, 1.0)),
        (lambda a, b: a * b, (-4.0, 3.0)),  # a = 3, b = -4
        (lambda a, b: a - b, (1.0, -1.0)),
        (lambda a, b: a**2 + 0 * b, (6.0, 0.0)),
        (lambda a, b: (a * b).relu(), (0.0, 0.0)),  # a b = -12 < 0: no gradient
        (lambda a, b: (b * -1).relu(), (0.0, -1.0)),
        (lambda a, b: 2 * a + 1 - b, (2.0, -1.0)),
        (lambda a, b: (a * 0.0).exp() + (b * b).log(), (0.0, -0.5)),  # d log(b^2)/db = 2/b
    ],
)
def test_local_rules(build, expected):
    a, b = Value(3.0), Value(-4.0)
    build(a, b).backward()
    assert (a.grad, b.grad) == expected


def test_tanh_rule_and_repr():
    x = Value(0.3)
    y = x.tanh()
    y.backward()
    assert math.isclose(x.grad, 1 - math.tanh(0.3) ** 2) and "grad=" in repr(x)


def test_a_value_used_twice_gets_both_gradients():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_topological_order_puts_parents_first_and_handles_deep_graphs():
    x = Value(1.0)
    y = x
    for _ in range(5000):  # deeper than Python's recursion limit
        y = y * 1.0 + 0.0
    order = topological_order(y)
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(p)] < position[id(v)] for v in order for p in v.parents)
    y.backward()
    assert x.grad == 1.0
    zero_grad([y])
    assert x.grad == 0.0 and y.grad == 0.0


def test_bad_arguments_raise_clearly():
    with pytest.raises(TypeError, match="'data' parameter of Value must be a number"):
        Value(np.ones(2))
    with pytest.raises(TypeError, match="constant number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive number"):
        Value(0.0).log()


def _mlp_loss(x, y, w1, b1, w2, b2):
    """The MSE of a D -> H (tanh) -> M network, built from Values; returns (loss, Value arrays)."""
    V = np.vectorize(Value, otypes=[object])
    w1v, b1v, w2v, b2v = V(w1), V(b1), V(w2), V(b2)
    hidden = np.vectorize(lambda v: v.tanh(), otypes=[object])(x @ w1v + b1v)  # (N, H) of Values
    out = hidden @ w2v + b2v  # (N, M) of Values
    loss = sum(((o - t) ** 2 for o, t in zip(out.ravel(), y.ravel(), strict=True)), Value(0.0)) * (1 / y.size)
    return loss, (w1v, b1v, w2v, b2v)


def test_engine_matches_the_matrix_gradients_and_gradcheck():
    rng = np.random.default_rng(0)
    N, D, H, M = 5, 3, 4, 2
    x, y = rng.standard_normal((N, D)), rng.standard_normal((N, M))
    weights = [rng.standard_normal((D, H)), rng.standard_normal(H), rng.standard_normal((H, M)), rng.standard_normal(M)]
    loss, values = _mlp_loss(x, y, *weights)
    loss.backward()
    engine = [np.vectorize(lambda v: v.grad)(v) for v in values]

    net = Sequential([Dense(D, H), Tanh(), Dense(H, M)]).astype(np.float64)
    net.set_weights([{"w": weights[0], "b": weights[1]}, {}, {"w": weights[2], "b": weights[3]}])
    mse = MSE()
    assert math.isclose(mse(net.forward(x), y), loss.data, rel_tol=1e-12)
    net.backward(mse.backward())
    matrix = [net.layers[0].grads["w"], net.layers[0].grads["b"], net.layers[2].grads["w"], net.layers[2].grads["b"]]
    for mine, theirs in zip(engine, matrix, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14)

    for k, array in enumerate(weights):
        numeric = gradcheck.numerical_gradient(lambda: _mlp_loss(x, y, *weights)[0].data, array)
        assert gradcheck.relative_error(engine[k], numeric) < 1e-7


def test_engine_agrees_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal(3)
    va, vb, vc = Value(a), Value(b), Value(c)
    out = ((va * vb + vc).tanh() * va - (vb * vc).relu() + vc**3 + (va.exp() + 1).log()) * 0.5
    out.backward()
    ta, tb, tc = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b, c))
    tout = ((ta * tb + tc).tanh() * ta - (tb * tc).relu() + tc**3 + (ta.exp() + 1).log()) * 0.5
    tout.backward()
    assert math.isclose(out.data, tout.item(), rel_tol=1e-12)
    for v, t in ((va, ta), (vb, tb), (vc, tc)):
        assert math.isclose(v.grad, t.grad.item(), rel_tol=1e-10, abs_tol=1e-14)
