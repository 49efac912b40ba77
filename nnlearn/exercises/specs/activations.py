"""Exercises of lesson 02_activations: stable sigmoid and softmax, their derivatives, dead units.

Every case set mixes ordinary inputs with huge ones (|x| up to 1e4), so a
formula that overflows returns NaN somewhere and fails with a verdict that
shows the input.
"""

from __future__ import annotations

import numpy as np

from nnlearn import activations as F
from nnlearn.exercises.registry import Exercise, register

_EXTREMES = np.array([-1e4, -1000.0, -50.0, -5.0, 0.0, 5.0, 50.0, 1000.0, 1e4])


def _elementwise_cases(rng: np.random.Generator) -> list[dict]:
    """Inputs of an elementwise function: the demo values, extremes, random batches."""
    N, D = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    return [
        {"x": np.array([-5.0, 0.0, 5.0])},  # the lesson's demo values
        {"x": rng.standard_normal((N, D))},  # a batch of ordinary pre-activations
        {"x": _EXTREMES.copy()},  # overflow territory on both sides
        {"x": rng.standard_normal((3, 4)) * 400},  # large values of both signs in a batch
        {"x": np.array([[rng.uniform(-3, 3)]])},  # N = D = 1
    ]


def _leaky_relu_cases(rng: np.random.Generator) -> list[dict]:
    N, D = int(rng.integers(2, 6)), int(rng.integers(2, 5))
    return [
        {"x": np.array([-2.0, -0.5, 0.0, 0.5, 2.0]), "alpha": 0.1},  # includes the kink x = 0
        {"x": rng.standard_normal((N, D)), "alpha": float(rng.uniform(0.01, 0.3))},
        {"x": rng.standard_normal((3, 3)), "alpha": 0.0},  # alpha = 0 is plain ReLU
        {"x": _EXTREMES.copy(), "alpha": 0.01},
    ]


def _leaky_relu_and_grad(x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    return F.leaky_relu(x, alpha), F.leaky_relu_grad(x, alpha)


def _softmax_cases(rng: np.random.Generator) -> list[dict]:
    N, C = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    return [
        {"x": np.array([[1.0, 2.0, 3.0]])},  # N = 1
        {"x": rng.standard_normal((N, C))},
        {"x": np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])},  # overflow
        {"x": rng.standard_normal((4, 3)) * 1e4},  # logits of 1e4: nearly one-hot rows
        {"x": np.array([[5.0, 5.0, 5.0, 5.0]])},  # equal logits -> uniform
    ]


def _softmax_backward_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for N, C in [(1, 3), (int(rng.integers(2, 6)), int(rng.integers(2, 6))), (4, 2)]:
        cases.append({"s": F.softmax(rng.standard_normal((N, C)) * 2),
                      "dout": rng.standard_normal((N, C))})
    one_hot = np.zeros((2, 4))
    one_hot[0, 1] = one_hot[1, 3] = 1.0  # a saturated softmax: no gradient flows
    cases.append({"s": one_hot, "dout": rng.standard_normal((2, 4))})
    return cases


def _dead_fraction_cases(rng: np.random.Generator) -> list[dict]:
    N, H = int(rng.integers(5, 20)), int(rng.integers(4, 10))
    shifts = np.where(rng.random(H) < 0.5, -10.0, 0.0)  # about half the units pushed far down
    return [
        {"z": rng.standard_normal((N, H)) + shifts},  # (N, H) pre-activations
        {"z": rng.standard_normal((6, 5)) - 10},  # every unit dead
        {"z": np.abs(rng.standard_normal((6, 5))) + 0.1},  # no unit dead
        {"z": np.array([[0.0, -1.0, 2.0, 0.0]])},  # N = 1, exact zeros count as dead
        {"z": np.array([[-1.0, 3.0], [-2.0, -1.0], [0.5, -4.0]])},  # alive once is alive
    ]


def _dead_fraction(z: np.ndarray) -> float:
    return float(np.mean(np.all(z <= 0, axis=0)))


register(
    Exercise(
        id="activations.sigmoid",
        title="a numerically stable sigmoid, for inputs of both signs",
        make_cases=_elementwise_cases,
        reference=F.sigmoid,
        forbid_warnings=True,
        hint="np.exp of a large positive number overflows. Arrange the formula so that exp only "
             "ever sees numbers <= 0, e.g. with -|x| and min(x, 0).",
    ),
    Exercise(
        id="activations.sigmoid_grad",
        title="the derivative of the sigmoid, sigmoid(x) * (1 - sigmoid(x))",
        make_cases=_elementwise_cases,
        reference=F.sigmoid_grad,
        hint="Reuse your sigmoid; the largest value of the derivative is 1/4, at x = 0.",
    ),
    Exercise(
        id="activations.leaky_relu_and_grad",
        title="leaky ReLU and its derivative (alpha at the kink x = 0)",
        make_cases=_leaky_relu_cases,
        reference=_leaky_relu_and_grad,
        output_names=("out", "grad"),
        hint="np.where(condition, a, b) picks a where the condition holds and b elsewhere; only "
             "x > 0 counts as the positive side.",
    ),
    Exercise(
        id="activations.softmax",
        title="a numerically stable softmax over the rows of (N, C) logits",
        make_cases=_softmax_cases,
        reference=F.softmax,
        forbid_warnings=True,
        hint="Subtract each row's maximum (keepdims=True) before exponentiating: softmax does not "
             "change when a constant is added to a row, and exp then never overflows.",
    ),
    Exercise(
        id="activations.softmax_backward",
        title="dL/dx of softmax from s = softmax(x) and dout = dL/ds, without a C x C Jacobian",
        make_cases=_softmax_backward_cases,
        reference=F.softmax_backward,
        hint="dx_j = s_j * (dout_j - sum_i dout_i * s_i); the sum is one number per row (keepdims).",
    ),
    Exercise(
        id="activations.dead_fraction",
        title="the fraction of ReLU units that are dead on a batch",
        make_cases=_dead_fraction_cases,
        reference=_dead_fraction,
        hint="A unit (a column of z) is dead when z <= 0 for every sample (every row); "
             "np.all(..., axis=0) gives one bool per unit.",
    ),
)


# -- 2.7 the derivative of SiLU (derive it) ----------------------------------------------------


def _silu_grad(x: np.ndarray) -> np.ndarray:
    s = F.sigmoid(x)
    return s * (1 + x * (1 - s))


register(
    Exercise(
        id="activations.silu_grad",
        title="return the derivative of silu(x) = x * sigmoid(x)",
        make_cases=_elementwise_cases,
        reference=_silu_grad,
        forbid_warnings=True,
        hint="Product rule: (x * s)' = 1 * s + x * s', and you derived s' = s (1 - s) in the "
        "lesson. Compute s with your stable sigmoid (no overflow for |x| = 1e4).",
    ),
)
