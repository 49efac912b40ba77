"""accuracy: multi-class via argmax, binary via an explicit threshold."""

import numpy as np
import pytest

from nnlearn.metrics import accuracy


def test_multiclass_labels_and_one_hot():
    out = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.1, 0.2, 0.3], [5.0, 0.0, 0.0]])
    y = np.array([0, 1, 0, 0])
    assert accuracy(out, y) == 0.75
    assert accuracy(out, np.eye(3)[y]) == 0.75


def test_binary_needs_an_explicit_threshold():
    logits = np.array([-2.0, 0.5, 3.0, -0.1])
    y = np.array([0, 1, 0, 0])
    assert accuracy(logits, y, threshold=0.0) == 0.75
    assert accuracy(1 / (1 + np.exp(-logits)), y[:, None], threshold=0.5) == 0.75
    assert accuracy(logits[:, None], y, threshold=0.0) == 0.75
    with pytest.raises(ValueError, match=r"binary output \(shape \(4,\)\) needs a threshold"):
        accuracy(logits, y)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"threshold applies only to binary.*\(2, 3\)"):
        accuracy(np.zeros((2, 3)), np.zeros(2, int), threshold=0.5)
    with pytest.raises(ValueError, match=r"\(N,\) = \(2,\) .* \(N, C\) = \(2, 3\).*got \(3,\)"):
        accuracy(np.zeros((2, 3)), np.zeros(3, int))
    with pytest.raises(ValueError, match=r"\(N,\) = \(2,\) or \(N, 1\) = \(2, 1\); got \(2, 2\)"):
        accuracy(np.zeros(2), np.zeros((2, 2)), threshold=0.5)
    with pytest.raises(ValueError, match=r"with N >= 1; got \(2, 3, 4\)"):
        accuracy(np.zeros((2, 3, 4)), np.zeros(2))
