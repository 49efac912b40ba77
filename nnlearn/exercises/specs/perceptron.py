"""Exercises of lesson 01_perceptron: the neuron, the perceptron rule, a 2-layer network for XOR."""

from __future__ import annotations

import numpy as np

from nnlearn.data import logic_gate
from nnlearn.exercises.registry import Exercise, register


def _gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = logic_gate(name, dtype=np.float64)
    return x, y


# -- 1.1 the neuron ----------------------------------------------------------------------------


def _neuron_forward_cases(rng: np.random.Generator) -> list[dict]:
    x_gate, _ = _gate("and")
    N, D = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    x_int = rng.integers(-2, 3, size=(5, 3)).astype(np.float64)  # integer inputs and weights:
    w_int = rng.integers(-2, 3, size=3).astype(np.float64)  # z = 0 exactly on some rows
    return [
        {"x": x_gate, "w": np.array([1.0, 1.0]), "b": -1.5},  # an AND gate
        {"x": x_gate, "w": np.array([1.0, 1.0]), "b": -1.0},  # z = 0 at (0, 1) and (1, 0)
        {"x": rng.standard_normal((1, 2)), "w": rng.standard_normal(2), "b": float(rng.normal())},
        {"x": rng.standard_normal((N, D)), "w": rng.standard_normal(D), "b": float(rng.normal())},
        {"x": x_int, "w": w_int, "b": float(-(x_int[0] @ w_int))},  # row 0 sits on the line
    ]


def _neuron_forward(x, w, b):
    return (x @ w + b >= 0).astype(np.int64)


# -- 1.2 one step of the perceptron rule ---------------------------------------------------------


def _perceptron_update_cases(rng: np.random.Generator) -> list[dict]:
    def case(x_i, y_i, w, b, lr):
        return {"w": np.asarray(w, dtype=np.float64), "b": float(b),
                "x_i": np.asarray(x_i, dtype=np.float64), "y_i": int(y_i), "lr": float(lr)}

    D = int(rng.integers(2, 5))
    w, x_i = rng.standard_normal(D), rng.standard_normal(D)
    z = float(x_i @ w)
    lr = float(rng.uniform(0.05, 1.0))
    return [
        case([1, 1], 1, [0.5, 0.5], -0.5, 0.1),  # right (fires, should fire): no change
        case([0, 1], 0, [0.5, -1.0], 0.2, 0.1),  # right (silent, should be): no change
        case([1, 0], 1, [-0.3, 0.2], 0.1, 0.5),  # should fire but did not: w += lr x
        case([1, 1], 0, [0.4, 0.4], -0.5, 1.0),  # fired but should not: w -= lr x
        case([0, 0], 0, [0.1, -0.2], 0.0, 0.25),  # z = 0 exactly: step(0) = 1, so a mistake
        case(x_i, int(z < 0), w, 0.0, lr),  # a random mistake, D inputs
        case(x_i, int(z >= 0), w, 0.0, lr),  # and the same sample classified right
    ]


def _perceptron_update(w, b, x_i, y_i, lr):
    error = y_i - int(x_i @ w + b >= 0)  # +1, 0 or -1
    return w + lr * error * x_i, float(b + lr * error)


# -- 1.3 one epoch -------------------------------------------------------------------------------


def _perceptron_epoch_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for gate in ("or", "and", "xor"):
        x, y = _gate(gate)
        cases.append({"x": x, "y": y, "w": 0.01 * rng.standard_normal(2), "b": 0.0,
                      "lr": float(rng.choice([0.1, 0.5, 1.0]))})
    N, D = int(rng.integers(5, 12)), 3
    x = rng.standard_normal((N, D))
    y = (x @ rng.standard_normal(D) > 0).astype(np.int64)
    cases.append({"x": x, "y": y, "w": rng.standard_normal(D), "b": float(rng.normal()), "lr": 0.3})
    w_and = np.array([1.0, 1.0])
    cases.append({"x": _gate("and")[0], "y": _gate("and")[1], "w": w_and, "b": -1.5, "lr": 0.1})  # no mistake
    return cases


def _perceptron_epoch(x, y, w, b, lr):
    mistakes = 0
    for x_i, y_i in zip(x, y, strict=True):
        error = y_i - int(x_i @ w + b >= 0)
        w, b = w + lr * error * x_i, b + lr * error
        mistakes += int(error != 0)
    return w, float(b), mistakes


# -- 1.4 a two-layer network -----------------------------------------------------------------------


def _two_layer_forward_cases(rng: np.random.Generator) -> list[dict]:
    x_xor, _ = _gate("xor")
    cases = [{  # Goodfellow et al.'s XOR network (Deep Learning, section 6.1)
        "x": x_xor,
        "w1": np.array([[1.0, 1.0], [1.0, 1.0]]), "b1": np.array([0.0, -1.0]),
        "w2": np.array([[1.0], [-2.0]]), "b2": np.array([0.0]),
    }]
    for N, D, H, C in [(1, 2, 3, 1), (4, 2, 3, 1), (int(rng.integers(2, 7)), 3, 5, 2)]:
        cases.append({
            "x": rng.standard_normal((N, D)),
            "w1": rng.standard_normal((D, H)), "b1": rng.standard_normal(H),
            "w2": rng.standard_normal((H, C)), "b2": rng.standard_normal(C),
        })
    return cases


def _two_layer_forward(x, w1, b1, w2, b2):
    h = np.maximum(x @ w1 + b1, 0)  # (N, H)
    return h @ w2 + b2  # (N, C)


# -- 1.5 mean squared error ------------------------------------------------------------------------


def _mse_cases(rng: np.random.Generator) -> list[dict]:
    N = int(rng.integers(3, 9))
    y_xor = np.array([[0.0], [1.0], [1.0], [0.0]])
    return [
        {"out": np.array([[0.0], [1.0], [1.0], [0.0]]), "y": y_xor},  # perfect: 0
        {"out": np.full((4, 1), 0.5), "y": y_xor},  # the constant 0.5: 0.25
        {"out": rng.standard_normal((N, 1)), "y": rng.integers(0, 2, (N, 1)).astype(np.float64)},
        {"out": rng.standard_normal(N), "y": rng.standard_normal(N)},
        {"out": rng.standard_normal((N, 3)), "y": rng.standard_normal((N, 3))},  # mean over all N*C
    ]


def _mse(out, y):
    return float(np.mean((out - y) ** 2))


register(
    Exercise(
        id="perceptron.neuron_forward",
        title="return step(x @ w + b) as 0/1 integers",
        make_cases=_neuron_forward_cases,
        reference=_neuron_forward,
        hint="step(z) is 1 where z >= 0 — including z == 0 exactly — and 0 elsewhere. "
             "Return integers (0 and 1), not booleans.",
    ),
    Exercise(
        id="perceptron.perceptron_update",
        title="one step of the perceptron rule: return the new w and b",
        make_cases=_perceptron_update_cases,
        reference=_perceptron_update,
        output_names=("w", "b"),
        hint="The error y_i - ŷ is +1, 0 or -1 (remember step(0) = 1); when it is 0 nothing "
             "changes. b moves like a weight whose input is always 1.",
    ),
    Exercise(
        id="perceptron.perceptron_epoch",
        title="one pass of the perceptron rule over the samples, in order",
        make_cases=_perceptron_epoch_cases,
        reference=_perceptron_epoch,
        output_names=("w", "b", "mistakes"),
        hint="Visit the samples in their given order and update after each one, so that the "
             "next sample already sees the new w and b. mistakes counts the updates (an int).",
    ),
    Exercise(
        id="perceptron.two_layer_forward",
        title="forward pass of Dense -> ReLU -> Dense",
        make_cases=_two_layer_forward_cases,
        reference=_two_layer_forward,
        hint="The ReLU acts on the hidden layer only; the output layer has no activation. "
             "b1 has shape (H,) and b2 shape (C,): each is added to every row.",
    ),
    Exercise(
        id="perceptron.mse",
        title="mean squared error over every entry",
        make_cases=_mse_cases,
        reference=_mse,
        hint="Average the squared differences over all entries (N * C of them), without a factor 1/2.",
    ),
)


# -- 1.6 the margin (derive it) ----------------------------------------------------------------


def _margin_cases(rng: np.random.Generator) -> list[dict]:
    x_and, y_and = _gate("and")
    N = int(rng.integers(4, 9))
    x = rng.standard_normal((N, 2))
    w, b = rng.standard_normal(2), float(rng.standard_normal())
    y = (x @ w + b >= 0).astype(np.int64)  # separated by (w, b): a positive margin
    y_flip = y.copy()
    y_flip[0] = 1 - y_flip[0]  # one point on the wrong side: a negative margin
    return [
        {"x": x_and, "y": y_and, "w": np.array([1.0, 1.0]), "b": -1.5},  # AND: margin 0.5 / sqrt 2
        {"x": x, "y": y, "w": w, "b": b},
        {"x": x, "y": y_flip, "w": w, "b": b},
        {"x": x * 3, "y": y, "w": 4 * w, "b": 12 * b},  # scaling (w, b) together changes nothing
    ]


def _margin(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    s = 2 * y - 1  # labels as -1 / +1
    return float(np.min(s * (x @ w + b)) / np.linalg.norm(w))


register(
    Exercise(
        id="perceptron.margin",
        title="return the signed geometric margin of the line w·x + b = 0 on (x, y)",
        make_cases=_margin_cases,
        reference=_margin,
        hint="Derive the distance of a point from the line first: move from the point along "
        "the unit vector w / ||w|| until w·x + b = 0. Then give it a sign (+ on the correct "
        "side) and take the smallest over the samples.",
    ),
)
