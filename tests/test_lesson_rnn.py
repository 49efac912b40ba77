"""Lesson 06 (RNN): the drawing logic and measurements of nnlearn.widgets.rnn, the sequence tasks,
and the exercise references checked against hand-written NumPy."""

import numpy as np
import pytest

from nnlearn.exercises.registry import get_exercise
from nnlearn.layers import GRU, LSTM, RNN, Dense, Embedding
from nnlearn.model import Sequential
from nnlearn.sequence_data import recall_task, sine_windows
from nnlearn.texts import CharTokenizer
from nnlearn.widgets import rnn as W


# -- diagrams ---------------------------------------------------------------------------------------
def test_unrolled_diagram_has_a_box_per_state_and_red_bptt_arrows():
    ax = W.draw_unrolled(3)
    labels = [t.get_text() for t in ax.texts]
    assert {"$h_0$", "$h_3$", "$x_1$", "$y_3$"} <= set(labels)
    assert "BPTT" in ax.get_title()
    red = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None
           and a.arrow_patch.get_edgecolor()[0] > 0.8 and a.arrow_patch.get_edgecolor()[1] < 0.2]
    assert len(red) == 2 * 3  # per step: back along h and down from y
    plain = W.draw_unrolled(2, backward=False)
    assert "BPTT" not in plain.get_title()


def test_gate_diagrams_name_every_gate():
    lstm_labels = " ".join(t.get_text() for t in W.draw_lstm_cell().texts)
    for name in ("$f_t$", "$i_t$", "$g_t$", "$o_t$", "$c_t$", "$h_t$"):
        assert name in lstm_labels
    gru_labels = " ".join(t.get_text() for t in W.draw_gru_cell().texts)
    for name in ("$r_t$", "$z_t$", "$n_t$", "$1 - z_t$", "$h_t$"):
        assert name in gru_labels


# -- gradient norms through time ----------------------------------------------------------------------
def test_gradient_norms_match_the_jacobian_of_a_linear_rnn():
    """With tanh near its linear range (tiny inputs and weights) dh_T/dh_t ~ (W_hh^T)^(T-t)."""
    H, T = 3, 5
    layer = RNN(1, H, rng=0).astype(np.float64)
    w = np.array([[0.5, 0.1, 0.0], [0.0, 0.4, 0.2], [0.1, 0.0, 0.3]]) * 1e-3
    layer.params["w_hh"][...] = w * 1e3  # the recurrence itself is not small
    layer.params["w_ih"][...] = 1e-6
    layer.params["b"][...] = 0
    x = np.zeros((2, T, 1))
    norms = W.gradient_norms_through_time(layer, x, rng=0)
    u = np.random.default_rng(0).standard_normal((2, H))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    for t in range(T + 1):
        grad = u @ np.linalg.matrix_power(layer.params["w_hh"].T, T - t)  # (N, H) rows u J
        np.testing.assert_allclose(norms[t], np.linalg.norm(grad, axis=1).mean(), rtol=1e-6)


@pytest.mark.parametrize("cell", [RNN, LSTM, GRU])
def test_gradient_norms_shape_and_last_value(cell):
    x = np.random.default_rng(1).standard_normal((4, 7, 2)).astype(np.float32)
    norms = W.gradient_norms_through_time(cell(2, 5, rng=0), x, rng=0)
    assert norms.shape == (8,) and norms[-1] == 1.0 and np.all(np.isfinite(norms))
    ax = W.plot_gradient_norms({"a": norms})
    assert ax.get_yscale() == "log" and ax.get_legend().get_texts()[0].get_text() == "a"


# -- temperature ---------------------------------------------------------------------------------------
def _tiny_lm():
    tok = CharTokenizer("abcab ca")
    model = Sequential([Embedding(tok.vocab_size, 3), LSTM(3, 6), Dense(6, tok.vocab_size)], rng=0)
    return model, tok


def test_draw_temperature_bars_and_sample():
    model, tok = _tiny_lm()
    ax, sample = W.draw_temperature(model, tok, "ab", temperature=0.5, length=10, rng=0)
    assert sample.startswith("ab") and len(sample) == 12
    cold, one = ax.containers[1], ax.containers[0]
    assert len(cold) == tok.vocab_size
    heights_cold = np.array([bar.get_height() for bar in cold])
    heights_one = np.array([bar.get_height() for bar in one])
    assert heights_cold.max() >= heights_one.max()  # a low temperature sharpens
    np.testing.assert_allclose(heights_one.sum(), 1, rtol=1e-6)
    _, again = W.draw_temperature(model, tok, "ab", temperature=0.5, length=10, rng=0)
    assert again == sample
    with pytest.raises(ValueError, match="temperature"):
        W.draw_temperature(model, tok, "ab", temperature=-1)


def test_temperature_widget_builds_and_redraws():
    pytest.importorskip("ipywidgets")
    model, tok = _tiny_lm()
    widget = W.temperature_widget(model, tok, prompt="ab", length=5)
    controls = {child.description: child for child in widget.children[:-1]}
    assert set(controls) == {"temperature", "seed", "prompt"}
    controls["temperature"].value = 1.5
    widget.update()


# -- tasks ---------------------------------------------------------------------------------------------
def test_sequence_tasks_shapes_and_labels():
    x, y = sine_windows(8, T=12, noise=0.0, rng=0)
    assert x.shape == (8, 12, 1) and y.shape == (8, 1) and x.dtype == np.float32
    assert np.abs(x).max() <= 1 and np.abs(y).max() <= 1
    x, y = recall_task(10, T=6, n_symbols=3, rng=0)
    assert x.shape == (10, 6, 3) and np.all(x.sum(axis=2) == 1)
    np.testing.assert_array_equal(x[:, 0].argmax(axis=1), y)
    with pytest.raises(ValueError, match="'n_symbols'"):
        recall_task(5, n_symbols=1)


# -- the exercise references agree with plain NumPy --------------------------------------------------------
def test_cell_references_match_the_equations():
    rng = np.random.default_rng(0)
    case = get_exercise("rnn.rnn_cell_forward").make_cases(rng)[1]
    h = np.tanh(case["x_t"] @ case["w_ih"] + case["h_prev"] @ case["w_hh"] + case["b"])
    np.testing.assert_allclose(get_exercise("rnn.rnn_cell_forward").reference(**case), h, rtol=1e-12)

    case = get_exercise("rnn.rnn_cell_backward").make_cases(rng)[1]
    dx, dh, dw_ih, dw_hh, db = get_exercise("rnn.rnn_cell_backward").reference(**case)
    h = np.tanh(case["x_t"] @ case["w_ih"] + case["h_prev"] @ case["w_hh"] + case["b"])
    da = case["dh_t"] * (1 - h**2)
    np.testing.assert_allclose(dx, da @ case["w_ih"].T, rtol=1e-10)
    np.testing.assert_allclose(dh, da @ case["w_hh"].T, rtol=1e-10)
    np.testing.assert_allclose(dw_hh, case["h_prev"].T @ da, rtol=1e-10)
    np.testing.assert_allclose(db, da.sum(axis=0), rtol=1e-10)

    case = get_exercise("rnn.lstm_cell_forward").make_cases(rng)[1]
    h_t, c_t = get_exercise("rnn.lstm_cell_forward").reference(**case)
    H = case["h_prev"].shape[1]
    a = case["x_t"] @ case["w_ih"] + case["h_prev"] @ case["w_hh"] + case["b"]
    sig = 1 / (1 + np.exp(-a))
    c = sig[:, H:2 * H] * case["c_prev"] + sig[:, :H] * np.tanh(a[:, 2 * H:3 * H])
    np.testing.assert_allclose(c_t, c, rtol=1e-10)
    np.testing.assert_allclose(h_t, sig[:, 3 * H:] * np.tanh(c), rtol=1e-10)


def test_sampling_references():
    p = np.array([[0.2, 0.3, 0.5]] * 4)
    drawn = get_exercise("rnn.sample_from_probabilities").reference(p, np.array([0.0, 0.19, 0.2, 0.99]))
    np.testing.assert_array_equal(drawn, [0, 0, 1, 2])
    probs = get_exercise("rnn.softmax_temperature").reference(np.array([[1000.0, 999.0, -1000.0]]), 0.1)
    np.testing.assert_allclose(probs.sum(), 1)
    assert probs[0, 1] < 1e-4 and np.isfinite(probs).all()
