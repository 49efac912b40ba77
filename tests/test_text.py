"""Shipped texts, the character tokenizer, temperature sampling and generation."""

import numpy as np
import pytest

from nnlearn.generate import generate, sample_token, softmax_with_temperature
from nnlearn.layers import GRU, LSTM, Dense, Embedding
from nnlearn.model import Sequential
from nnlearn.texts import CharTokenizer, license_text, load_text, random_windows


def test_texts_ship_with_their_licence():
    zen = load_text("zen_of_python")
    assert zen.startswith("The Zen of Python, by Tim Peters") and "Readability counts." in zen
    reference = load_text("python_reference")
    assert len(reference) > 90_000 and 'The "while" statement' in reference
    assert "PSF License" in license_text()
    with pytest.raises(ValueError, match="one of"):
        load_text("shakespeare")


def test_tokenizer_round_trip_and_errors():
    text = load_text("zen_of_python")
    tok = CharTokenizer(text)
    ids = tok.encode(text)
    assert ids.dtype == np.int64 and ids.max() == tok.vocab_size - 1
    assert tok.decode(ids) == text
    assert tok.chars == sorted(set(text))
    with pytest.raises(ValueError, match=r"\['~'\] are not in the vocabulary"):
        tok.encode("~")


def test_random_windows_are_shifted_by_one():
    ids = np.arange(100)
    x, y = random_windows(ids, 10, 7, rng=0)
    assert x.shape == y.shape == (7, 10)
    np.testing.assert_array_equal(y, x + 1)
    assert y.max() <= 99
    with pytest.raises(ValueError, match="at least T"):
        random_windows(np.arange(5), 10, 2)


def test_softmax_with_temperature():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    for temperature in (0.5, 1.0, 3.0):
        p = softmax_with_temperature(z, temperature)
        np.testing.assert_allclose(p.sum(axis=1), 1)
    np.testing.assert_allclose(softmax_with_temperature(z, 1.0)[0], np.exp(z[0]) / np.exp(z[0]).sum())
    np.testing.assert_array_equal(softmax_with_temperature(z, 0), [[0, 0, 1], [0, 0, 1]])
    cold, hot = softmax_with_temperature(z[0], 0.5), softmax_with_temperature(z[0], 5.0)
    assert cold.max() > softmax_with_temperature(z[0], 1).max() > hot.max()  # sharper when cold
    assert np.isfinite(softmax_with_temperature(np.array([1e4, -1e4]), 0.01)).all()
    with pytest.raises(ValueError, match="temperature"):
        softmax_with_temperature(z, -1)


def test_sample_token_follows_the_distribution_and_is_seeded():
    logits = np.log(np.array([0.1, 0.2, 0.7]))
    draws = sample_token(np.tile(logits, (20_000, 1)), 1.0, rng=0)
    freq = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.01)
    np.testing.assert_array_equal(sample_token(np.tile(logits, (50, 1)), 0, rng=1), 2)
    a = sample_token(np.tile(logits, (10, 1)), 1.0, rng=3)
    np.testing.assert_array_equal(a, sample_token(np.tile(logits, (10, 1)), 1.0, rng=3))


@pytest.mark.parametrize("cell", [LSTM, GRU])
def test_generate_carries_state_like_a_full_pass(cell):
    """Greedy generation one step at a time picks the same tokens as re-reading the whole text."""
    tok = CharTokenizer("abcdefgh ")
    model = Sequential([Embedding(tok.vocab_size, 4), cell(4, 8), Dense(8, tok.vocab_size)], rng=0)
    text = generate(model, tok, "abc", length=6, temperature=0, rng=0)
    assert len(text) == 9 and text.startswith("abc")
    ids = tok.encode(text)
    logits = model.predict(ids[None, :-1].astype(np.float32))  # (1, 8, V), one full pass
    np.testing.assert_array_equal(logits[0, 2:].argmax(axis=1), ids[3:])
    assert generate(model, tok, "ab", 20, 1.0, rng=5) == generate(model, tok, "ab", 20, 1.0, rng=5)
