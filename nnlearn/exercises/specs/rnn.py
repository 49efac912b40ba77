"""Exercises of lesson 06_rnn: the RNN cell forward and backward, BPTT, the LSTM cell, temperature.

The references call nnlearn (RNN and LSTM layers, nnlearn.generate), so each exercise is
checked against the library, never against the solution notebook. All arrays are
batch-first: x_t (N, D), h (N, H), w_ih (D, G*H), w_hh (H, G*H).
"""

from __future__ import annotations

import numpy as np

from nnlearn.exercises.registry import Exercise, register
from nnlearn.generate import sample_from, softmax_with_temperature
from nnlearn.layers import LSTM, RNN


def _sizes(rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """(N, D, H): fixed small ones, N = 1, and one drawn from rng."""
    return [(1, 1, 1), (3, 2, 4), (1, 3, 2), (int(rng.integers(2, 7)), int(rng.integers(1, 5)), 3)]


def _layer(cell, w_ih, w_hh, b, return_sequences=True):
    """An nnlearn layer in float64 holding the given weights."""
    D, GH = w_ih.shape
    layer = cell(D, w_hh.shape[0], return_sequences=return_sequences, rng=0).astype(np.float64)
    layer.params["w_ih"][...], layer.params["w_hh"][...], layer.params["b"][...] = w_ih, w_hh, b
    return layer


# -- 6.1 rnn_cell_forward ----------------------------------------------------------------------
def _cell_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, D, H in _sizes(rng):
        cases.append({"x_t": rng.standard_normal((N, D)), "h_prev": rng.standard_normal((N, H)),
                      "w_ih": rng.standard_normal((D, H)), "w_hh": rng.standard_normal((H, H)) / np.sqrt(H),
                      "b": rng.standard_normal(H)})
    return cases


def _rnn_cell_forward(x_t, h_prev, w_ih, w_hh, b):
    return _layer(RNN, w_ih, w_hh, b).forward(x_t[:, None, :], state=h_prev)[:, 0]


# -- 6.2 rnn_cell_backward ---------------------------------------------------------------------
def _cell_backward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for case in _cell_cases(rng):
        N, H = case["h_prev"].shape
        cases.append({"dh_t": rng.standard_normal((N, H)), **case})
    return cases


def _rnn_cell_backward(dh_t, x_t, h_prev, w_ih, w_hh, b):
    layer = _layer(RNN, w_ih, w_hh, b)
    layer.forward(x_t[:, None, :], state=h_prev)  # one step: (N, 1, D)
    dx = layer.backward(dh_t[:, None, :])
    return dx[:, 0], layer.dstate_, layer.grads["w_ih"].copy(), layer.grads["w_hh"].copy(), layer.grads["b"].copy()


# -- 6.3 rnn_bptt ----------------------------------------------------------------------------------
def _bptt_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for (N, D, H), T in zip(_sizes(rng), (1, 4, 6, int(rng.integers(2, 9))), strict=True):
        cases.append({"dout": rng.standard_normal((N, T, H)), "x": rng.standard_normal((N, T, D)),
                      "h0": rng.standard_normal((N, H)), "w_ih": rng.standard_normal((D, H)),
                      "w_hh": rng.standard_normal((H, H)) / np.sqrt(H), "b": rng.standard_normal(H)})
    return cases


def _rnn_bptt(dout, x, h0, w_ih, w_hh, b):
    layer = _layer(RNN, w_ih, w_hh, b)
    layer.forward(x, state=h0)
    dx = layer.backward(dout)
    return dx, layer.dstate_.copy(), layer.grads["w_ih"].copy(), layer.grads["w_hh"].copy(), layer.grads["b"].copy()


# -- 6.4 lstm_cell_forward -------------------------------------------------------------------------
def _lstm_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, D, H in _sizes(rng):
        cases.append({"x_t": rng.standard_normal((N, D)), "h_prev": rng.standard_normal((N, H)),
                      "c_prev": rng.standard_normal((N, H)), "w_ih": rng.standard_normal((D, 4 * H)),
                      "w_hh": rng.standard_normal((H, 4 * H)) / np.sqrt(H), "b": rng.standard_normal(4 * H)})
    return cases


def _lstm_cell_forward(x_t, h_prev, c_prev, w_ih, w_hh, b):
    layer = _layer(LSTM, w_ih, w_hh, b)
    layer.forward(x_t[:, None, :], state=(h_prev, c_prev))
    return layer.state_


# -- 6.5 softmax_temperature -----------------------------------------------------------------------
def _temperature_cases(rng: np.random.Generator) -> list[dict]:
    V = int(rng.integers(3, 10))
    return [
        {"logits": rng.standard_normal((2, V)), "temperature": 1.0},
        {"logits": rng.standard_normal((3, V)), "temperature": 0.5},
        {"logits": 3 * rng.standard_normal((1, V)), "temperature": 2.5},
        {"logits": np.array([[1000.0, 999.0, -1000.0]]), "temperature": 0.1},  # must not overflow
    ]


def _softmax_temperature(logits, temperature):
    return softmax_with_temperature(logits, temperature)


# -- 6.6 sample_from_probabilities -----------------------------------------------------------------
def _sample_cases(rng: np.random.Generator) -> list[dict]:
    V = int(rng.integers(3, 8))
    p = rng.random((5, V))
    p /= p.sum(axis=1, keepdims=True)
    one_hot = np.zeros((2, V))
    one_hot[0, V - 1] = one_hot[1, 0] = 1
    return [
        {"p": p, "u": rng.random(5)},
        {"p": np.array([[0.2, 0.3, 0.5]] * 4), "u": np.array([0.0, 0.19, 0.2, 0.99])},  # at the edges
        {"p": one_hot, "u": rng.random(2)},
    ]


def _sample_from_probabilities(p, u):
    return sample_from(p, u)


register(
    Exercise(
        id="rnn.rnn_cell_forward",
        title="one step of a tanh RNN, batch-first: h_t = tanh(x_t w_ih + h_prev w_hh + b)",
        make_cases=_cell_cases,
        reference=_rnn_cell_forward,
        hint="x_t is (N, D) and w_ih (D, H); h_prev is (N, H) and w_hh (H, H); b (H,) is added to every row.",
    ),
    Exercise(
        id="rnn.rnn_cell_backward",
        title="gradients of one RNN step: dx_t, dh_prev, dw_ih, dw_hh, db",
        make_cases=_cell_backward_cases,
        reference=_rnn_cell_backward,
        output_names=("dx_t", "dh_prev", "dw_ih", "dw_hh", "db"),
        hint="Recompute h_t, then go through the tanh: da = dh_t * (1 - h_t**2). a = x_t w_ih + "
             "h_prev w_hh + b is two dense layers: each gradient has the shape of what it is the "
             "gradient of, and db sums over the batch.",
    ),
    Exercise(
        id="rnn.rnn_bptt",
        title="backpropagation through time over a whole sequence",
        make_cases=_bptt_cases,
        reference=_rnn_bptt,
        output_names=("dx", "dh0", "dw_ih", "dw_hh", "db"),
        hint="Run the forward loop and keep every h_t. Then go backwards from t = T-1 to 0, adding "
             "dout[:, t] to the gradient carried back from step t+1, and sum the weight gradients "
             "over the steps.",
    ),
    Exercise(
        id="rnn.lstm_cell_forward",
        title="one LSTM step (gate order i, f, g, o): return h_t and c_t",
        make_cases=_lstm_cases,
        reference=_lstm_cell_forward,
        output_names=("h_t", "c_t"),
        hint="a = x_t w_ih + h_prev w_hh + b has 4H columns: the blocks are i, f, g, o in that order. "
             "g uses tanh, the three gates sigmoid; c_t = f c_prev + i g and h_t = o tanh(c_t).",
    ),
    Exercise(
        id="rnn.softmax_temperature",
        title="probabilities softmax(logits / temperature) along the last axis, without overflow",
        make_cases=_temperature_cases,
        reference=_softmax_temperature,
        hint="Divide by the temperature first, then subtract each row's maximum before exp.",
    ),
    Exercise(
        id="rnn.sample_from_probabilities",
        title="draw one token per row of p by inverse-CDF sampling with the uniform numbers u",
        make_cases=_sample_cases,
        reference=_sample_from_probabilities,
        hint="Row n draws the first id k whose cumulative probability cumsum(p[n])[k] is larger than u[n].",
    ),
)
