"""Embedding, RNN, LSTM, GRU and Dense on sequences: gradient checks, PyTorch agreement, errors."""

import numpy as np
import pytest

from nnlearn.gradcheck import check_layer, numerical_gradient, relative_error
from nnlearn.layers import GRU, LSTM, RNN, Dense, Embedding

TOL = 1e-7
CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def as_parts(state):
    return list(state) if isinstance(state, tuple) else [state]


def make_layer(name, D, H, return_sequences=True, seed=0):
    layer = CELLS[name](D, H, return_sequences=return_sequences, rng=seed).astype(np.float64)
    rng = np.random.default_rng(seed + 100)
    for p in layer.params.values():  # larger than the default init: every path matters
        p[...] = rng.uniform(-0.8, 0.8, p.shape)
    return layer


# --- gradient checks (float64) ---------------------------------------------------------------

@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_recurrent_gradcheck_dx_and_weights(name, return_sequences):
    rng = np.random.default_rng(1)
    layer = make_layer(name, 3, 4, return_sequences)
    result = check_layer(layer, rng.standard_normal((2, 5, 3)), rng=2)
    assert result.max_rel_error < TOL, repr(result)


@pytest.mark.parametrize("name", CELLS)
def test_recurrent_gradcheck_initial_and_final_state(name):
    """f = sum(out * dout) + sum(final_state * dstate): gradients w.r.t. every weight, x and
    the initial state, with dL/d(final state) fed into backward."""
    rng = np.random.default_rng(3)
    N, T, D, H = 3, 4, 2, 3
    layer = make_layer(name, D, H, seed=4)
    x = rng.standard_normal((N, T, D))
    k = 2 if name == "lstm" else 1
    state0 = [rng.standard_normal((N, H)) for _ in range(k)]
    dout = rng.standard_normal((N, T, H))
    dfinal = [rng.standard_normal((N, H)) for _ in range(k)]

    def packed(parts):
        return tuple(parts) if k == 2 else parts[0]

    def f():
        out = layer.forward(x, state=packed(state0))
        final = as_parts(layer.state_)
        return np.sum(out * dout) + sum(np.sum(s * d) for s, d in zip(final, dfinal, strict=True))

    f()
    dx = layer.backward(dout, dstate=packed(dfinal))
    analytic = {"dx": dx, **{f"d{key}": g.copy() for key, g in layer.grads.items()}}
    analytic.update({f"dstate{j}": d for j, d in enumerate(as_parts(layer.dstate_))})
    numeric = {"dx": numerical_gradient(f, x)}
    numeric.update({f"d{key}": numerical_gradient(f, p) for key, p in layer.params.items()})
    numeric.update({f"dstate{j}": numerical_gradient(f, s) for j, s in enumerate(state0)})
    for key in numeric:
        error = relative_error(analytic[key], numeric[key])
        assert error < TOL, f"{name} {key}: relative error {error:.2g}"


def test_dense_on_sequences_gradcheck_and_matches_per_step():
    rng = np.random.default_rng(5)
    layer = Dense(4, 3, rng=6).astype(np.float64)
    layer.params["b"][...] = rng.standard_normal(3)
    x = rng.standard_normal((2, 5, 4))
    result = check_layer(layer, x, rng=7)
    assert result.max_rel_error < TOL, repr(result)
    out = layer.forward(x)
    assert out.shape == (2, 5, 3)
    np.testing.assert_allclose(out[:, 2], layer.forward(x[:, 2]), rtol=1e-12)


def test_embedding_gradient_adds_repeated_ids():
    rng = np.random.default_rng(8)
    layer = Embedding(5, 3, rng=0).astype(np.float64)
    ids = np.array([[0, 2, 2], [4, 2, 0]])
    out = layer.forward(ids)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[1, 0], layer.params["w"][4])
    dout = rng.standard_normal(out.shape)
    assert layer.backward(dout) is None
    numeric = numerical_gradient(lambda: np.sum(layer.forward(ids) * dout), layer.params["w"])
    assert relative_error(layer.grads["w"], numeric) < TOL
    np.testing.assert_allclose(layer.grads["w"][2], dout[0, 1] + dout[0, 2] + dout[1, 1])
    np.testing.assert_array_equal(layer.grads["w"][[1, 3]], 0)


# --- behaviour ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CELLS)
def test_float32_stays_float32_and_shapes(name):
    layer = CELLS[name](3, 5, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 6, 3)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32 and out.shape == (4, 6, 5)
    dx = layer.backward(np.ones_like(out))
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert all(g.dtype == np.float32 for g in layer.grads.values())
    last = CELLS[name](3, 5, return_sequences=False, rng=0).forward(x)
    np.testing.assert_allclose(last, out[:, -1], rtol=1e-6)


@pytest.mark.parametrize("name", CELLS)
def test_chunks_with_carried_state_equal_one_long_run(name):
    """Truncated BPTT's forward: running two halves with the state carried over gives the
    same outputs as one run; ``stateful=True`` carries it automatically."""
    x = np.random.default_rng(1).standard_normal((2, 8, 3))
    layer = make_layer(name, 3, 4)
    whole = layer.forward(x)
    first = layer.forward(x[:, :4])
    second = layer.forward(x[:, 4:], state=layer.state_)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12)
    stateful = make_layer(name, 3, 4)
    stateful.stateful = True
    chunks = [stateful.forward(x[:, :4]), stateful.forward(x[:, 4:])]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), whole, rtol=1e-12)
    stateful.reset_state()
    np.testing.assert_allclose(stateful.forward(x[:, :4]), first, rtol=1e-12)


def test_lstm_forward_matches_the_equations():
    rng = np.random.default_rng(2)
    N, D, H = 3, 2, 4
    layer = make_layer("lstm", D, H)
    x = rng.standard_normal((N, 1, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    out = layer.forward(x, state=(h0, c0))
    a = x[:, 0] @ layer.params["w_ih"] + h0 @ layer.params["w_hh"] + layer.params["b"]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    c = f * c0 + i * g
    np.testing.assert_allclose(out[:, 0], o * np.tanh(c), rtol=1e-12)
    np.testing.assert_allclose(layer.state_[1], c, rtol=1e-12)


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CELLS)
def test_recurrent_errors_name_expected_and_received(name):
    layer = CELLS[name](3, 4, rng=0)
    with pytest.raises(ValueError, match=r"expected input x of shape \(N, T, D\) = \(N, T, 3\); got shape \(5, 3\)"):
        layer.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"\(N, T, 3\); got shape \(2, 5, 7\)"):
        layer.forward(np.zeros((2, 5, 7)))
    bad_state = np.zeros((2, 5))
    state = (bad_state, np.zeros((2, 4))) if name == "lstm" else bad_state
    with pytest.raises(ValueError, match=r"initial state h of shape \(N, H\) = \(2, 4\); got shape \(2, 5\)"):
        layer.forward(np.zeros((2, 6, 3)), state=state)
    if name == "lstm":
        with pytest.raises(ValueError, match=r"pair \(h, c\)"):
            layer.forward(np.zeros((2, 6, 3)), state=(np.zeros((2, 4)),))
    with pytest.raises(ValueError, match="hidden_size"):
        CELLS[name](3, 0)


def test_embedding_errors():
    layer = Embedding(10, 4)
    with pytest.raises(ValueError, match=r"token ids in \[0, 10\); got 10 at index \(1, 0\)"):
        layer.forward(np.array([[1, 2], [10, 3]]))
    with pytest.raises(ValueError, match=r"got -1 at index \(0,\)"):
        layer.forward(np.array([-1, 2]))
    with pytest.raises(ValueError, match=r"integer token ids; got 1.5 at index \(0, 1\)"):
        layer.forward(np.array([[1.0, 1.5]]))
    with pytest.raises(ValueError, match="integer token ids; got an array of dtype <U1"):
        layer.forward(np.array(["a"]))
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 2.0]])), layer.forward(np.array([[1, 2]])))


# --- PyTorch as an independent oracle ---------------------------------------------------------

@pytest.mark.parametrize("name", CELLS)
def test_recurrent_matches_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    for trial in range(3):
        N, T, D, H = (int(v) for v in rng.integers(1, 7, size=4))
        layer = CELLS[name](D, H, rng=trial).astype(np.float64)
        module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[name](
            D, H, batch_first=True).double()
        module.load_state_dict({k: torch.from_numpy(v) for k, v in layer.torch_state().items()})
        layer.load_torch_state(module.state_dict())  # and back: both directions agree
        x = rng.standard_normal((N, T, D))
        k = 2 if name == "lstm" else 1
        state0 = [rng.standard_normal((N, H)) for _ in range(k)]
        dout = rng.standard_normal((N, T, H))
        dfinal = [rng.standard_normal((N, H)) for _ in range(k)]

        xt = torch.from_numpy(x).requires_grad_()
        st = [torch.from_numpy(s[None]).requires_grad_() for s in state0]  # (1, N, H)
        out_t, final_t = module(xt, tuple(st) if k == 2 else st[0])
        final_t = list(final_t) if k == 2 else [final_t]
        total = (out_t * torch.from_numpy(dout)).sum()
        total = total + sum((f[0] * torch.from_numpy(d)).sum() for f, d in zip(final_t, dfinal, strict=True))
        total.backward()

        out = layer.forward(x, state=tuple(state0) if k == 2 else state0[0])
        dx = layer.backward(dout, dstate=tuple(dfinal) if k == 2 else dfinal[0])
        close = dict(rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(out, out_t.detach().numpy(), **close)
        for mine, theirs in zip(as_parts(layer.state_), final_t, strict=True):
            np.testing.assert_allclose(mine, theirs[0].detach().numpy(), **close)
        np.testing.assert_allclose(dx, xt.grad.numpy(), **close)
        for mine, theirs in zip(as_parts(layer.dstate_), st, strict=True):
            np.testing.assert_allclose(mine, theirs.grad[0].numpy(), **close)
        grads = {"weight_ih_l0": layer.grads["w_ih"].T, "weight_hh_l0": layer.grads["w_hh"].T}
        if name == "gru":
            grads.update(bias_ih_l0=layer.grads["b_ih"], bias_hh_l0=layer.grads["b_hh"])
        else:  # one bias b = b_ih + b_hh: both of PyTorch's get our db
            grads.update(bias_ih_l0=layer.grads["b"], bias_hh_l0=layer.grads["b"])
        for key, value in grads.items():
            np.testing.assert_allclose(value, getattr(module, key).grad.numpy(), **close, err_msg=key)


def test_embedding_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    layer = Embedding(7, 3, rng=0).astype(np.float64)
    module = torch.nn.Embedding(7, 3).double()
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.params["w"]))
    ids = rng.integers(0, 7, size=(4, 6))
    dout = rng.standard_normal((4, 6, 3))
    out_t = module(torch.from_numpy(ids))
    (out_t * torch.from_numpy(dout)).sum().backward()
    np.testing.assert_allclose(layer.forward(ids), out_t.detach().numpy(), rtol=1e-12)
    layer.backward(dout)
    np.testing.assert_allclose(layer.grads["w"], module.weight.grad.numpy(), rtol=1e-10)
