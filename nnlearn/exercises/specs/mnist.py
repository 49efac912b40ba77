"""Exercises of lesson 08_mnist: the IDX format, softmax cross-entropy, accuracy and the
confusion matrix, a saliency map and one step of feature visualisation.

The references call nnlearn (``datasets.parse_idx``, ``SoftmaxCrossEntropy``,
``metrics.accuracy``, ``interpret``) or scikit-learn (``confusion_matrix``).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from nnlearn.datasets.idx import parse_idx, to_idx_bytes
from nnlearn.exercises.registry import Exercise, register
from nnlearn.interpret import ascent_step, input_gradient
from nnlearn.layers import Dense, ReLU
from nnlearn.losses import SoftmaxCrossEntropy
from nnlearn.metrics import accuracy
from nnlearn.model import Sequential


# -- 8.1 parse_idx ------------------------------------------------------------------------------
def _file(x: np.ndarray) -> np.ndarray:
    """The bytes of an IDX file holding x, as a 1-D uint8 array."""
    return np.frombuffer(to_idx_bytes(x), dtype=np.uint8).copy()


def _parse_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(2, 6))
    return [
        {"data": _file(rng.integers(0, 10, N).astype(np.uint8))},  # labels: 1-D uint8
        {"data": _file(rng.integers(0, 256, (N, 4, 3)).astype(np.uint8))},  # images: 3-D uint8
        {"data": _file(rng.integers(-30000, 30000, (3, N)).astype(np.int16))},  # big-endian int16
        {"data": _file(rng.standard_normal((N, 2)).astype(np.float32))},  # big-endian float32
        {"data": _file(rng.integers(-(2**31), 2**31 - 1, 300, dtype=np.int64).astype(np.int32))},  # dim >= 256
    ]


def _parse_idx(data: np.ndarray) -> np.ndarray:
    return parse_idx(np.asarray(data, dtype=np.uint8).tobytes())


# -- 8.2 softmax_cross_entropy -----------------------------------------------------------------
def _sce_cases(rng: np.random.Generator) -> list[dict]:
    N, C = int(rng.integers(3, 8)), int(rng.integers(3, 11))
    big = float(rng.integers(500, 1000))
    return [
        {"logits": rng.standard_normal((N, C)), "y": rng.integers(0, C, N)},
        {"logits": rng.standard_normal((1, 10)), "y": rng.integers(0, 10, 1)},  # N = 1
        {"logits": np.zeros((4, C)), "y": rng.integers(0, C, 4)},  # uniform: loss = log C
        # Huge logits, confidently right and confidently wrong: exp must not overflow.
        {"logits": np.array([[big, 0.0, -big], [-big, big, 0.0], [0.0, big, big]]), "y": np.array([0, 2, 1])},
    ]


def _sce(logits: np.ndarray, y: np.ndarray) -> tuple:
    loss = SoftmaxCrossEntropy()
    value = loss(logits, y)
    return value, loss.backward()


# -- 8.3 accuracy_score -----------------------------------------------------------------------
def _accuracy_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(5, 20))
    logits = rng.standard_normal((N, 10))
    right = logits.argmax(axis=1)
    return [
        {"logits": logits, "y": rng.integers(0, 10, N)},
        {"logits": logits, "y": right},  # all right
        {"logits": logits, "y": (right + 1) % 10},  # all wrong
        {"logits": rng.standard_normal((1, 3)), "y": np.array([1])},  # N = 1
    ]


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return accuracy(logits, y)


# -- 8.4 confusion ----------------------------------------------------------------------------
def _confusion_cases(rng: np.random.Generator) -> list[dict]:
    N, K = int(rng.integers(10, 40)), int(rng.integers(3, 8))
    y = rng.integers(0, K, N)
    return [
        {"y_true": y, "y_pred": rng.integers(0, K, N), "num_classes": K},
        {"y_true": y, "y_pred": y.copy(), "num_classes": K},  # perfect: diagonal only
        {"y_true": np.array([0, 0, 1]), "y_pred": np.array([1, 1, 1]), "num_classes": 4},  # empty classes
        {"y_true": np.array([2]), "y_pred": np.array([0]), "num_classes": 3},
    ]


def _confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    return sk_confusion_matrix(y_true, y_pred, labels=np.arange(num_classes)).astype(np.int64)


# -- 8.5 saliency_map and 8.6 ascent_step (a two-layer ReLU MLP given by its weights) ---------------------
def _mlp(w1, b1, w2, b2) -> Sequential:
    first = Dense(*w1.shape).astype(np.float64)  # (D, H)
    second = Dense(*w2.shape).astype(np.float64)  # (H, K)
    for layer, w, b in ((first, w1, b1), (second, w2, b2)):
        layer.params["w"][...] = w
        layer.params["b"][...] = b
    return Sequential([first, ReLU(), second])


def _mlp_case(rng: np.random.Generator, N: int, D: int, H: int, K: int) -> dict:
    return {
        "x": rng.random((N, D)),
        "w1": rng.standard_normal((D, H)) / np.sqrt(D),
        "b1": 0.1 * rng.standard_normal(H),
        "w2": rng.standard_normal((H, K)) / np.sqrt(H),
        "b2": 0.1 * rng.standard_normal(K),
    }


def _saliency_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, D, H, K in [(1, 4, 3, 2), (3, 6, 5, 4), (int(rng.integers(2, 6)), 16, 8, 10)]:
        case = _mlp_case(rng, N, D, H, K)
        case["c"] = int(rng.integers(0, K))
        cases.append(case)
    return cases


def _saliency(x, w1, b1, w2, b2, c) -> np.ndarray:
    return np.abs(input_gradient(_mlp(w1, b1, w2, b2), x, c))


def _ascent_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for (N, D, H, K), lr, l2 in [((1, 4, 3, 2), 0.1, 0.0), ((2, 6, 5, 4), 0.5, 0.1),
                                   ((1, 16, 8, 10), float(rng.uniform(0.5, 2.0)), 0.05)]:
        case = _mlp_case(rng, N, D, H, K)
        case.update(c=int(rng.integers(0, K)), lr=lr, l2=l2)
        cases.append(case)
    return cases


def _ascent(x, w1, b1, w2, b2, c, lr, l2) -> np.ndarray:
    grad = input_gradient(_mlp(w1, b1, w2, b2), x, c)
    return ascent_step(x, grad, lr, l2)


register(
    Exercise(
        id="mnist.parse_idx",
        title="decode the bytes of an IDX file into an array",
        make_cases=_parse_cases,
        reference=_parse_idx,
        hint="Byte 2 is the dtype code, byte 3 the number of dimensions; each size is a 4-byte "
             "big-endian integer; the data are big-endian too (a '>' in the dtype).",
    ),
    Exercise(
        id="mnist.softmax_cross_entropy",
        title="mean softmax cross-entropy of logits and its gradient",
        make_cases=_sce_cases,
        reference=_sce,
        output_names=("loss", "dlogits"),
        hint="Subtract each row's maximum before exp; the gradient is (softmax - one_hot(y)) / N.",
        forbid_warnings=True,
    ),
    Exercise(
        id="mnist.accuracy_score",
        title="fraction of rows whose largest logit is the label",
        make_cases=_accuracy_cases,
        reference=_accuracy,
        hint="Compare the argmax of each row with y and average; return a Python float.",
    ),
    Exercise(
        id="mnist.confusion",
        title="the confusion matrix: rows true class, columns predicted class",
        make_cases=_confusion_cases,
        reference=_confusion,
        hint="Start from zeros((K, K), int) and add 1 at [y_true[n], y_pred[n]] for every n "
             "(np.add.at does it without a loop).",
    ),
    Exercise(
        id="mnist.saliency_map",
        title="|d logit_c / dx| for a two-layer ReLU network",
        make_cases=_saliency_cases,
        reference=_saliency,
        hint="Forward: h = relu(x @ w1 + b1), logits = h @ w2 + b2. Backward from dlogits = "
             "one-hot(c): through w2, the ReLU mask and w1.",
    ),
    Exercise(
        id="mnist.ascent_step",
        title="one step of gradient ascent on the input (feature visualisation)",
        make_cases=_ascent_cases,
        reference=_ascent,
        hint="The same input gradient as the saliency map, without the absolute value; then "
             "clip(x + lr * (grad - l2 * x), 0, 1).",
    ),
)
