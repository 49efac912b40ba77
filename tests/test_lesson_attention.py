"""Lesson 07 (attention): nnlearn.sequences (the toy task, training loop, token accuracy) and the
heatmap drawing logic of nnlearn.widgets.attention."""

import numpy as np
import pytest

from nnlearn.layers import Dense, Embedding, EncoderBlock, PositionalEncoding
from nnlearn.model import Sequential
from nnlearn.optim import Adam
from nnlearn.sequences import fit_tokens, reverse_digits, token_accuracy
from nnlearn.widgets import attention as W


def tiny_model(T=4, blocks=2):
    return Sequential([Embedding(10, 8), PositionalEncoding(8, max_len=T)]
                      + [EncoderBlock(8, 2, 16) for _ in range(blocks)] + [Dense(8, 10)], rng=0)


# -- the task and the training loop ----------------------------------------------------------
def test_reverse_digits():
    x, y = reverse_digits(5, 6, rng=0)
    assert x.shape == y.shape == (5, 6) and x.min() >= 0 and x.max() <= 9
    np.testing.assert_array_equal(y, x[:, ::-1])
    np.testing.assert_array_equal(reverse_digits(5, 6, rng=0)[0], x)  # seeded


def test_fit_tokens_learns_and_token_accuracy_counts_tokens():
    x, y = reverse_digits(2000, 4, rng=0)
    model = tiny_model()
    before = token_accuracy(model, x, y)
    losses = fit_tokens(model, x, y, Adam(model.parameters(), lr=3e-3), steps=150, batch_size=32, rng=0)
    assert len(losses) == 150 and np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10])
    assert token_accuracy(model, x, y) > before + 0.15
    assert model.training  # token_accuracy restores training mode


def test_score_from_scores_only_the_last_positions():
    x, y = reverse_digits(50, 3, rng=1)
    x_in = np.concatenate([x, x], axis=1)  # (N, 6): the answer positions are 3..5
    model = tiny_model(T=6, blocks=1)
    fit_tokens(model, x_in, y, Adam(model.parameters(), lr=1e-3), steps=2, batch_size=8,
               score_from=3, rng=0)
    logits = model.forward(x_in)  # (N, 6, 10)
    expected = np.mean(logits[:, 3:].argmax(axis=-1) == y)
    model.eval()
    assert token_accuracy(model, x_in, y, score_from=3) == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"logits of shape \(N, 0 \+ T, V\)"):
        token_accuracy(model, x_in, y)


# -- widgets --------------------------------------------------------------------------------
def test_attention_maps_collects_every_layer_and_keeps_the_mode():
    model = tiny_model(blocks=3)
    x, _ = reverse_digits(5, 4, rng=2)
    maps = W.attention_maps(model, x)
    assert maps.shape == (3, 5, 2, 4, 4)  # (L, N, h, T, T)
    np.testing.assert_allclose(maps.sum(axis=-1), 1, rtol=1e-5)
    assert model.training
    with pytest.raises(ValueError, match="no MultiHeadAttention"):
        W.attention_maps(Sequential([Dense(2, 2)]), np.zeros((1, 2)))


def test_draw_attention_draws_the_weights_with_token_labels():
    weights = np.random.default_rng(3).dirichlet(np.ones(5), size=3)  # (3, 5), rows sum to 1
    ax = W.draw_attention(weights, list("abc"), list("vwxyz"), title="t")
    image = ax.get_images()[0]
    np.testing.assert_array_equal(image.get_array(), weights)
    assert image.get_clim() == (0, 1)
    assert [t.get_text() for t in ax.get_xticklabels()] == list("vwxyz")
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abc")
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="expected 5 key_labels"):
        W.draw_attention(weights, None, list("ab"))
    with pytest.raises(ValueError, match=r"weights of shape \(T_q, T_k\)"):
        W.draw_attention(np.ones(3))


def test_draw_heads_one_panel_per_head():
    maps = np.random.default_rng(4).dirichlet(np.ones(4), size=(2, 3, 2, 4))  # (L, N, h, T, T)
    axes = W.draw_heads(maps, example=1, layer=1, tokens=list("abcd"))
    assert len(axes) == 2
    np.testing.assert_array_equal(axes[1].get_images()[0].get_array(), maps[1, 1, 1])
    assert axes[0].get_title() == "layer 1, head 0"
    with pytest.raises(ValueError, match=r"layer must be in \[0, 2\)"):
        W.draw_heads(maps, layer=2)


def test_attention_explorer_builds_and_draws():
    pytest.importorskip("ipywidgets")
    maps = np.random.default_rng(5).dirichlet(np.ones(3), size=(2, 4, 1, 3))
    widget = W.attention_explorer(maps, [list("abc")] * 4)
    sliders = {child.description: child for child in widget.children[:-1]}
    assert sliders["example"].max == 3 and sliders["layer"].max == 1
    sliders["layer"].value = 1  # redraws without error
