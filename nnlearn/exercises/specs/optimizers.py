"""Exercises of lesson 04_optimizers: update rules, inverted dropout, clipping, a schedule.

Every update rule is a pure function of one step: it takes the parameters
``w``, their gradient ``dw`` and the optimizer's state, and returns the new
parameters and state (the library's optimizers do the same in place). The
conventions are those of :mod:`nnlearn.optim` (and PyTorch): momentum sums
gradients without a ``(1 - beta)`` factor, ``eps`` is added outside the square
root.
"""

from __future__ import annotations

import numpy as np

from nnlearn.exercises.registry import Exercise, register
from nnlearn.schedules import cosine_decay, linear_warmup


def _shapes(rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Parameter shapes: a bias (D,), a weight matrix (D_in, D_out), a single number (1,)."""
    return [(int(rng.integers(2, 6)),), (int(rng.integers(2, 5)), int(rng.integers(2, 5))), (1,)]


# -- SGD with momentum ---------------------------------------------------------------------------
def _sgd_momentum_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for shape in _shapes(rng):
        cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                      "v": rng.standard_normal(shape), "lr": float(rng.uniform(0.01, 0.5)),
                      "beta": float(rng.uniform(0.5, 0.99))})
    shape = (3,)
    cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                  "v": np.zeros(shape), "lr": 0.1, "beta": 0.9})  # the first step: v = 0
    cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                  "v": rng.standard_normal(shape), "lr": 0.1, "beta": 0.0})  # beta = 0: plain SGD
    return cases


def _sgd_momentum_update(w, dw, v, lr, beta):
    v = beta * v + dw
    return w - lr * v, v


# -- RMSprop -------------------------------------------------------------------------------------
def _rmsprop_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for shape in _shapes(rng):
        cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                      "s": rng.uniform(0.0, 2.0, shape), "lr": float(rng.uniform(0.001, 0.1)),
                      "alpha": float(rng.uniform(0.8, 0.999)), "eps": 1e-8})
    shape = (4,)
    cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape) * 100,
                  "s": np.zeros(shape), "lr": 0.01, "alpha": 0.99, "eps": 1e-8})  # first step, s = 0
    cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                  "s": np.zeros(shape), "lr": 0.01, "alpha": 0.9, "eps": 0.1})  # a large eps: where it goes matters
    return cases


def _rmsprop_update(w, dw, s, lr, alpha, eps):
    s = alpha * s + (1 - alpha) * dw**2
    return w - lr * dw / (np.sqrt(s) + eps), s


# -- Adam ----------------------------------------------------------------------------------------
def _adam_cases(rng: np.random.Generator) -> list[dict]:
    cases = []
    for shape, t in zip(_shapes(rng), (int(rng.integers(2, 20)), int(rng.integers(20, 2000)), 3), strict=True):
        cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                      "m": rng.standard_normal(shape) * 0.1, "v": rng.uniform(0.0, 0.1, shape),
                      "t": t, "lr": float(rng.uniform(0.001, 0.1)), "beta1": 0.9, "beta2": 0.999,
                      "eps": 1e-8})
    shape = (2, 3)
    cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape) * 1e3,
                  "m": np.zeros(shape), "v": np.zeros(shape), "t": 1, "lr": 0.01, "beta1": 0.9,
                  "beta2": 0.999, "eps": 1e-8})  # the first step moves every w by lr (sign of dw)
    cases.append({"w": rng.standard_normal(shape), "dw": rng.standard_normal(shape),
                  "m": rng.standard_normal(shape) * 0.1, "v": rng.uniform(0.0, 0.1, shape),
                  "t": int(rng.integers(2, 10)), "lr": 0.05, "beta1": float(rng.uniform(0.5, 0.95)),
                  "beta2": float(rng.uniform(0.9, 0.99)), "eps": 1e-3})  # other betas and eps
    return cases


def _adam_update(w, dw, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


# -- inverted dropout ------------------------------------------------------------------------------
def _dropout_cases(rng: np.random.Generator, first: str) -> list[dict]:
    cases = []
    for shape, p in [((int(rng.integers(2, 6)), int(rng.integers(3, 8))), 0.5),
                     ((4, 5), float(rng.uniform(0.1, 0.9))),
                     ((1, 6), 0.25),  # N = 1
                     ((3, 4), 0.0)]:  # p = 0: nothing dropped, nothing scaled
        mask = rng.random(shape) >= p  # True = keep (probability 1 - p)
        cases.append({first: rng.standard_normal(shape), "mask": mask, "p": p})
    return cases


def _dropout_forward(x, mask, p):
    return x * mask / (1 - p)


def _dropout_backward(dout, mask, p):
    return dout * mask / (1 - p)


# -- clipping by global norm ----------------------------------------------------------------------
def _clip_cases(rng: np.random.Generator) -> list[dict]:
    D, M = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    big = [rng.standard_normal((D, M)) * 10, rng.standard_normal(M) * 10]  # a (dw, db) pair, norm >> 1
    small = [rng.standard_normal((D, M)) * 0.01, rng.standard_normal(M) * 0.01]
    return [
        {"grads": big, "max_norm": 1.0},  # clipped: the global norm becomes 1
        {"grads": small, "max_norm": 1.0},  # below the threshold: unchanged
        {"grads": [rng.standard_normal(3) * 5, rng.standard_normal((2, 2)) * 5,
                   rng.standard_normal(1) * 5], "max_norm": float(rng.uniform(0.5, 3.0))},
        {"grads": [np.array([3.0, 4.0])], "max_norm": 2.5},  # norm 5 -> half of every entry
        {"grads": [np.zeros(3), np.zeros((2, 2))], "max_norm": 1.0},  # zero gradient: no 0 / 0
    ]


def _clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * scale for g in grads], norm


# -- learning-rate schedule --------------------------------------------------------------------------
def _warmup_cosine_cases(rng: np.random.Generator) -> list[dict]:
    lr, W, T = float(rng.uniform(0.01, 1.0)), int(rng.integers(3, 20)), int(rng.integers(50, 200))
    min_lr = float(rng.uniform(0.0, 0.1)) * lr

    def case(step, **changes):
        return {"step": step, "lr": lr, "warmup_steps": W, "total_steps": T, "min_lr": min_lr} | changes

    return [
        case(0),  # the very first step: lr / W
        case(int(rng.integers(1, W - 1))),  # inside the warmup
        case(W - 1),  # the end of the warmup reaches lr
        case(W),  # the first step of the cosine: still lr
        case(int(rng.integers(W + 1, T))),  # somewhere on the cosine
        case(T + int(rng.integers(0, 50))),  # at or after total_steps: min_lr
        case(25, lr=0.1, warmup_steps=10, total_steps=40, min_lr=0.0),  # halfway: lr / 2
    ]


def _warmup_cosine_lr(step, lr, warmup_steps, total_steps, min_lr):
    schedule = linear_warmup(cosine_decay(lr, total_steps - warmup_steps, min_lr), warmup_steps)
    return schedule(step)


register(
    Exercise(
        id="optimizers.sgd_momentum_update",
        title="one step of SGD with momentum: return the new w and velocity v",
        make_cases=_sgd_momentum_cases,
        reference=_sgd_momentum_update,
        output_names=("w", "v"),
        hint="Update the velocity first (beta * v plus the gradient, no (1 - beta) factor), "
             "then step w against the new velocity.",
    ),
    Exercise(
        id="optimizers.rmsprop_update",
        title="one RMSprop step: return the new w and mean square s",
        make_cases=_rmsprop_cases,
        reference=_rmsprop_update,
        output_names=("w", "s"),
        hint="s is a running average of dw**2 (weights alpha and 1 - alpha); eps is added after "
             "the square root, and the step uses the new s.",
    ),
    Exercise(
        id="optimizers.adam_update",
        title="one bias-corrected Adam step t: return the new w, m and v",
        make_cases=_adam_cases,
        reference=_adam_update,
        output_names=("w", "m", "v"),
        hint="Return the raw averages m and v (the state), but step with the bias-corrected "
             "m / (1 - beta1**t) and v / (1 - beta2**t); t counts from 1.",
    ),
    Exercise(
        id="optimizers.dropout_forward",
        title="inverted dropout forward pass with a given keep-mask",
        make_cases=lambda rng: _dropout_cases(rng, "x"),
        reference=_dropout_forward,
        hint="Kept units are divided by the keep probability 1 - p, so the expected output equals x.",
    ),
    Exercise(
        id="optimizers.dropout_backward",
        title="inverted dropout backward pass with the same mask",
        make_cases=lambda rng: _dropout_cases(rng, "dout"),
        reference=_dropout_backward,
        hint="The forward pass multiplies x by a constant (per entry); the backward pass "
             "multiplies dout by the same constant.",
    ),
    Exercise(
        id="optimizers.clip_by_global_norm",
        title="rescale a list of gradients to a global norm of at most max_norm",
        make_cases=_clip_cases,
        reference=_clip_by_global_norm,
        output_names=("clipped", "norm"),
        hint="One norm for all the arrays together (the square root of the sum of every squared "
             "entry), and one scale factor for all of them; return the norm before clipping.",
    ),
    Exercise(
        id="optimizers.warmup_cosine_lr",
        title="the learning rate of step k under linear warmup then cosine decay",
        make_cases=_warmup_cosine_cases,
        reference=_warmup_cosine_lr,
        hint="Warmup uses (step + 1) / warmup_steps; the cosine runs over total_steps - "
             "warmup_steps steps, counted from the end of the warmup, and stays at min_lr after.",
    ),
)


# -- 4.8 the L1 + L2 penalty (derive it) -------------------------------------------------------


def _penalty_cases(rng: np.random.Generator) -> list[dict]:
    cases = [{"w": rng.standard_normal(shape), "l1": float(rng.uniform(0.01, 0.5)),
              "l2": float(rng.uniform(0.01, 0.5))} for shape in _shapes(rng)]  # fmt: skip
    cases.append({"w": np.array([-2.0, 0.0, 0.5]), "l1": 0.1, "l2": 0.0})  # L1 only; w = 0 exactly
    cases.append({"w": np.array([[1.0, -3.0]]), "l1": 0.0, "l2": 0.2})  # L2 only
    return cases


def _penalty(w: np.ndarray, l1: float, l2: float) -> tuple:
    penalty = l1 * np.sum(np.abs(w)) + 0.5 * l2 * np.sum(w**2)
    return float(penalty), l1 * np.sign(w) + l2 * w  # np.sign(0) = 0: the subgradient at the kink


register(
    Exercise(
        id="optimizers.l1_l2_penalty",
        title="return the penalty l1 * sum|w| + l2/2 * sum w**2 and its gradient",
        make_cases=_penalty_cases,
        reference=_penalty,
        output_names=("penalty", "dw"),
        hint="Differentiate each term entry by entry: |w| has slope +1 or -1 (take 0 at w = 0, "
        "as np.sign does), and the 1/2 in front of w**2 cancels the 2 of its derivative.",
    ),
)
