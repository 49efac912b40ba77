"""Learning-rate schedules: the learning rate as a function of the step.

A schedule is a callable ``step -> lr``, where ``step`` counts optimizer steps
from 0. Give one to any optimizer in place of a float::

    from nnlearn.optim import SGD
    from nnlearn.schedules import cosine_decay, linear_warmup

    opt = SGD(model.parameters(), lr=linear_warmup(cosine_decay(0.1, total_steps=900), 100))

and step ``t`` uses ``lr = schedule(t)``. ``schedule.values(n)`` lists the first
``n`` learning rates, to plot them.

Why schedule? Early on, large steps make fast progress; near a minimum they
make the loss bounce around it, and smaller steps settle in. Warmup does the
opposite at the very start: while Adam's running averages (or BatchNorm's
statistics) are still poor estimates, small steps avoid a bad first jump.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from nnlearn.validation import check_float, check_int


class Schedule:
    """A learning rate that depends on the step: ``lr = schedule(step)``.

    Built by the functions below; ``formula`` maps a step (int >= 0) to a float
    and ``text`` is what ``repr`` shows.
    """

    def __init__(self, formula: Callable[[int], float], text: str) -> None:
        self.formula = formula
        self.text = text

    def __call__(self, step: int) -> float:
        step = check_int(step, "step", repr(self), low=0)
        return float(self.formula(step))

    def values(self, num_steps: int) -> np.ndarray:
        """The learning rates of steps 0, 1, ..., num_steps - 1, shape (num_steps,)."""
        num_steps = check_int(num_steps, "num_steps", "Schedule.values", low=0)
        return np.array([self(k) for k in range(num_steps)])

    def __repr__(self) -> str:
        return self.text


def _lr(lr, owner: str) -> float:
    return check_float(lr, "lr", owner, "> 0")


def constant(lr: float) -> Schedule:
    r"""The same learning rate at every step: :math:`\text{lr}_k = \text{lr}`."""
    lr = _lr(lr, "constant")
    return Schedule(lambda k: lr, f"constant(lr={lr})")


def step_decay(lr: float, every: int, drop: float = 0.5) -> Schedule:
    r"""Multiply the learning rate by ``drop`` every ``every`` steps.

    .. math:: \text{lr}_k = \text{lr} \cdot \text{drop}^{\lfloor k / \text{every} \rfloor}

    Same as ``torch.optim.lr_scheduler.StepLR(step_size=every, gamma=drop)``.

    Parameters
    ----------
    lr : float > 0, the learning rate of steps 0 .. every - 1
    every : int >= 1
    drop : float in (0, 1]
    """
    owner = "step_decay"
    lr = _lr(lr, owner)
    every = check_int(every, "every", owner, low=1)
    drop = check_float(drop, "drop", owner, "in (0, 1]")
    return Schedule(lambda k: lr * drop ** (k // every),
                    f"step_decay(lr={lr}, every={every}, drop={drop})")


def exponential_decay(lr: float, gamma: float) -> Schedule:
    r"""Multiply the learning rate by ``gamma`` at every step.

    .. math:: \text{lr}_k = \text{lr} \cdot \gamma^k

    Same as ``torch.optim.lr_scheduler.ExponentialLR(gamma=gamma)``. The rate
    halves every :math:`\ln 2 / -\ln\gamma` steps (``gamma=0.999``: ~693 steps).

    Parameters
    ----------
    lr : float > 0
    gamma : float in (0, 1]
    """
    owner = "exponential_decay"
    lr = _lr(lr, owner)
    gamma = check_float(gamma, "gamma", owner, "in (0, 1]")
    return Schedule(lambda k: lr * gamma**k, f"exponential_decay(lr={lr}, gamma={gamma})")


def cosine_decay(lr: float, total_steps: int, min_lr: float = 0.0) -> Schedule:
    r"""Go from ``lr`` down to ``min_lr`` along half a cosine, then stay at ``min_lr``.

    .. math::
        \text{lr}_k = \text{min\_lr} + \tfrac{1}{2}(\text{lr} - \text{min\_lr})
        \left(1 + \cos\frac{\pi \min(k, T)}{T}\right), \qquad T = \text{total\_steps}

    Slow at first, fastest halfway, gentle again at the end. Same as
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)``
    for ``k <= total_steps`` (PyTorch then climbs back up; this stays at ``min_lr``).

    Parameters
    ----------
    lr : float > 0, the learning rate at step 0
    total_steps : int >= 1, the step at which ``min_lr`` is reached
    min_lr : float in [0, lr]
    """
    owner = "cosine_decay"
    lr = _lr(lr, owner)
    total_steps = check_int(total_steps, "total_steps", owner, low=1)
    min_lr = check_float(min_lr, "min_lr", owner, ">= 0")
    if min_lr > lr:
        raise ValueError(f"The 'min_lr' parameter of {owner} must be a float in [0, lr={lr}]. Got {min_lr!r} instead.")

    def formula(k: int) -> float:
        progress = min(k, total_steps) / total_steps  # 0 -> 1
        return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))

    return Schedule(formula, f"cosine_decay(lr={lr}, total_steps={total_steps}, min_lr={min_lr})")


def linear_warmup(schedule_or_lr: Schedule | Callable[[int], float] | float,
                  warmup_steps: int) -> Schedule:
    r"""Ramp the learning rate up linearly for ``warmup_steps`` steps, then follow the schedule.

    .. math::
        \text{lr}_k = \begin{cases}
            \text{base}(0) \cdot (k + 1) / n & k < n \quad (n = \text{warmup\_steps}) \\
            \text{base}(k - n) & k \ge n
        \end{cases}

    So the first step uses ``base(0) / n``, step ``n - 1`` reaches ``base(0)``,
    and the wrapped schedule then runs from its own step 0: warmup adds ``n``
    steps in front of it (as optax and Hugging Face do). A float ``lr`` stands
    for ``constant(lr)``. Same as PyTorch's ``SequentialLR`` of
    ``LinearLR(start_factor=1/n, total_iters=n-1)`` and the base scheduler, with
    milestone ``n``.

    Parameters
    ----------
    schedule_or_lr : a schedule (callable step -> lr) or a float > 0
    warmup_steps : int >= 1
    """
    owner = "linear_warmup"
    if callable(schedule_or_lr):
        base = schedule_or_lr
    else:
        base = constant(check_float(schedule_or_lr, "schedule_or_lr", owner, "> 0"))
    warmup_steps = check_int(warmup_steps, "warmup_steps", owner, low=1)

    def formula(k: int) -> float:
        if k < warmup_steps:
            return base(0) * ((k + 1) / warmup_steps)  # exactly base(0) at k = n - 1
        return base(k - warmup_steps)

    return Schedule(formula, f"linear_warmup({base!r}, warmup_steps={warmup_steps})")
