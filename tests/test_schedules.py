"""Tests for nnlearn.schedules: formulas by hand, PyTorch's schedulers, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlearn.schedules import (
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    linear_warmup,
    step_decay,
)


def test_constant():
    s = constant(0.1)
    assert s(0) == s(1000) == 0.1
    assert repr(s) == "constant(lr=0.1)"


def test_step_decay_by_hand():
    s = step_decay(1.0, every=3, drop=0.1)
    np.testing.assert_allclose(s.values(7), [1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    assert repr(s) == "step_decay(lr=1.0, every=3, drop=0.1)"


def test_exponential_decay_by_hand():
    s = exponential_decay(2.0, gamma=0.5)
    np.testing.assert_allclose(s.values(4), [2, 1, 0.5, 0.25])
    assert repr(s) == "exponential_decay(lr=2.0, gamma=0.5)"


def test_cosine_decay_by_hand():
    s = cosine_decay(1.0, total_steps=4, min_lr=0.2)
    expected = [0.2 + 0.4 * (1 + math.cos(math.pi * k / 4)) for k in range(5)]
    np.testing.assert_allclose(s.values(5), expected)
    assert s(2) == pytest.approx(0.6)  # halfway: the mean of lr and min_lr
    assert s(4) == s(100) == pytest.approx(0.2)  # stays at min_lr afterwards
    assert repr(s) == "cosine_decay(lr=1.0, total_steps=4, min_lr=0.2)"


def test_linear_warmup_by_hand():
    s = linear_warmup(exponential_decay(1.0, gamma=0.5), warmup_steps=4)
    np.testing.assert_allclose(s.values(7), [0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.25])
    assert repr(s) == "linear_warmup(exponential_decay(lr=1.0, gamma=0.5), warmup_steps=4)"
    np.testing.assert_allclose(linear_warmup(0.2, 2).values(4), [0.1, 0.2, 0.2, 0.2])


def test_linear_warmup_accepts_any_callable():
    s = linear_warmup(lambda k: 1.0 / (k + 1), warmup_steps=2)
    np.testing.assert_allclose(s.values(4), [0.5, 1.0, 1.0, 0.5])


def test_values_are_python_floats():
    assert type(exponential_decay(np.float32(0.5), np.float64(0.9))(3)) is float
    assert isinstance(constant(1.0), Schedule)


# -- agreement with torch.optim.lr_scheduler ------------------------------------
def torch_lrs(make_scheduler, lr, num_steps):
    """The learning rate PyTorch uses at optimizer steps 0 .. num_steps - 1."""
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(torch.optim.lr_scheduler, optimizer)
    lrs = []
    for _ in range(num_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


@pytest.mark.parametrize("ours, make_scheduler", [
    (step_decay(0.1, every=5, drop=0.3), lambda sch, opt: sch.StepLR(opt, step_size=5, gamma=0.3)),
    (exponential_decay(0.1, gamma=0.9), lambda sch, opt: sch.ExponentialLR(opt, gamma=0.9)),
    (cosine_decay(0.1, total_steps=20, min_lr=0.01),
     lambda sch, opt: sch.CosineAnnealingLR(opt, T_max=20, eta_min=0.01)),
    (linear_warmup(cosine_decay(0.1, total_steps=12), warmup_steps=5),
     lambda sch, opt: sch.SequentialLR(opt, [
         sch.LinearLR(opt, start_factor=1 / 5, end_factor=1.0, total_iters=4),
         sch.CosineAnnealingLR(opt, T_max=12)], milestones=[5])),
])
def test_matches_torch_schedulers(ours, make_scheduler):
    expected = torch_lrs(make_scheduler, 0.1, 18)
    np.testing.assert_allclose(ours.values(18), expected, rtol=1e-9, atol=1e-12)


# -- argument errors -------------------------------------------------------------
@pytest.mark.parametrize("make, name, got", [
    (lambda: constant(0), "lr", "0"),
    (lambda: step_decay(-0.1, every=3), "lr", "-0.1"),
    (lambda: step_decay(0.1, every=0), "every", "0"),
    (lambda: step_decay(0.1, every=2.5), "every", "2.5"),
    (lambda: step_decay(0.1, every=3, drop=1.5), "drop", "1.5"),
    (lambda: exponential_decay(0.1, gamma=0), "gamma", "0"),
    (lambda: cosine_decay(0.1, total_steps=True), "total_steps", "True"),
    (lambda: cosine_decay(0.1, total_steps=10, min_lr=0.5), "min_lr", "0.5"),
    (lambda: linear_warmup(0.1, warmup_steps=0), "warmup_steps", "0"),
    (lambda: linear_warmup("fast", warmup_steps=3), "schedule_or_lr", "'fast'"),
])
def test_bad_arguments_name_parameter_and_value(make, name, got):
    with pytest.raises(ValueError) as info:
        make()
    assert f"The '{name}' parameter of " in str(info.value)
    assert f"Got {got} instead." in str(info.value)


def test_bad_step():
    with pytest.raises(ValueError, match=r"'step' parameter of constant\(lr=0.1\) .* Got -1"):
        constant(0.1)(-1)
