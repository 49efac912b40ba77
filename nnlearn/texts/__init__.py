"""Texts that ship with nnlearn, and the character tokenizer of lesson 06.

Two texts, both from the Python distribution and redistributed under the PSF
License (see ``README.txt`` and ``LICENSE-PSF.txt`` in this folder), so they are
available offline on every platform:

* ``"zen_of_python"`` (857 characters): PEP 20, as ``import this`` prints it.
* ``"python_reference"`` (about 94,000 characters): sections of the Python
  Language Reference (``if``, ``while``, ``try``, functions, classes, the
  execution model ...), as ``help("while")`` shows them.

Example
-------
>>> text = load_text("python_reference")
>>> tok = CharTokenizer(text)
>>> ids = tok.encode("while")          # array([..], dtype=int64)
>>> tok.decode(ids)
'while'
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from nnlearn.init import RngLike, as_rng
from nnlearn.validation import check_int

__all__ = ["TEXTS", "load_text", "license_text", "CharTokenizer", "random_windows"]

TEXTS = {
    "zen_of_python": "zen_of_python.txt",
    "python_reference": "python_reference.txt",
}


def load_text(name: str = "python_reference") -> str:
    """The shipped text ``name`` (one of ``TEXTS``) as a string."""
    if name not in TEXTS:
        raise ValueError(f"load_text expected name to be one of {sorted(TEXTS)}; got {name!r}")
    return resources.files(__name__).joinpath(TEXTS[name]).read_text(encoding="utf-8")


def license_text() -> str:
    """Where the texts come from and under which licence they are shipped."""
    return resources.files(__name__).joinpath("README.txt").read_text(encoding="utf-8")


class CharTokenizer:
    """Characters as tokens: every distinct character of ``text`` gets an id 0 .. V-1.

    Ids follow the sorted characters, so the same text always gives the same ids.

    Attributes
    ----------
    chars : list of str, the vocabulary (``chars[id]`` is the character)
    vocab_size : int, V
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text:
            raise ValueError(f"CharTokenizer expected a non-empty str; got {text!r:.40}")
        self.chars = sorted(set(text))
        self.vocab_size = len(self.chars)
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text``, an int64 array of shape (len(text),)."""
        unknown = sorted(set(text) - self.index.keys())
        if unknown:
            raise ValueError(f"CharTokenizer.encode: characters {unknown!r} are not in the vocabulary")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids) -> str:
        """The string spelled by token ids (any iterable of ints in [0, V))."""
        return "".join(self.chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def random_windows(ids: np.ndarray, T: int, N: int, rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
    """N random windows of T tokens and, for each, the next-token targets.

    Returns x (N, T) and y (N, T) with y[n, t] = ids[start_n + t + 1]: at every
    position the model learns to predict the token that follows.
    """
    ids = np.asarray(ids)
    T = check_int(T, "T", "random_windows")
    N = check_int(N, "N", "random_windows")
    if ids.ndim != 1 or len(ids) < T + 1:
        raise ValueError(f"random_windows expected a 1-D array of at least T + 1 = {T + 1} ids; "
                         f"got shape {ids.shape}")
    starts = as_rng(rng).integers(0, len(ids) - T, size=N)  # (N,)
    offsets = starts[:, None] + np.arange(T)  # (N, T)
    return ids[offsets], ids[offsets + 1]
