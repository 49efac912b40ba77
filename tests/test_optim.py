"""Tests for nnlearn.optim: hand-computed steps, PyTorch agreement, dtypes, errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnlearn.optim import SGD, Adam, AdamW, Momentum, RMSprop, clip_grad_norm
from nnlearn.schedules import exponential_decay

SHAPES = [{"w": (5, 4), "b": (4,)}, {"w": (4, 3), "b": (3,)}]


def make_pairs(rng, dtype=np.float64, shapes=SHAPES):
    """(params, grads) pairs with random params and grads, like Sequential.parameters()."""
    pairs = []
    for layer in shapes:
        params = {k: rng.standard_normal(s).astype(dtype) for k, s in layer.items()}
        grads = {k: rng.standard_normal(s).astype(dtype) for k, s in layer.items()}
        pairs.append((params, grads))
    return pairs


def arrays(pairs, which):
    """All params (which=0) or all grads (which=1) of the pairs, in order."""
    return [a for pair in pairs for a in pair[which].values()]


def one_pair(p, g):
    return [({"xy": np.array(p, dtype=float)}, {"xy": np.array(g, dtype=float)})]


# -- single steps by hand --------------------------------------------------------
def test_sgd_one_step():
    pairs = one_pair([1.0, -2.0], [0.5, 4.0])
    SGD(pairs, lr=0.1).step()
    np.testing.assert_allclose(pairs[0][0]["xy"], [0.95, -2.4])


def test_sgd_momentum_two_steps_by_hand():
    pairs = one_pair([1.0], [2.0])
    opt = SGD(pairs, lr=0.1, momentum=0.9)
    opt.step()  # v = 2,          p = 1 - 0.2 = 0.8
    np.testing.assert_allclose(pairs[0][0]["xy"], [0.8])
    pairs[0][1]["xy"][:] = 1.0
    opt.step()  # v = 0.9*2 + 1 = 2.8, p = 0.8 - 0.28 = 0.52
    np.testing.assert_allclose(pairs[0][0]["xy"], [0.52])
    np.testing.assert_allclose(opt.state[(0, "xy")]["velocity"], [2.8])
    assert opt.t == 2


def test_nesterov_one_step_by_hand():
    pairs = one_pair([1.0], [2.0])
    SGD(pairs, lr=0.1, momentum=0.9, nesterov=True).step()  # v = 2; p -= 0.1 * (2 + 0.9 * 2)
    np.testing.assert_allclose(pairs[0][0]["xy"], [1.0 - 0.38])


def test_momentum_is_sgd_with_momentum():
    rng = np.random.default_rng(0)
    a, b = make_pairs(rng), make_pairs(np.random.default_rng(0))
    opt_a, opt_b = Momentum(a, lr=0.05, beta=0.8), SGD(b, lr=0.05, momentum=0.8)
    for _ in range(3):
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(arrays(a, 0), arrays(b, 0), strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert opt_a.beta == 0.8


def test_adam_first_step_moves_by_lr_against_the_sign():
    rng = np.random.default_rng(1)
    pairs = make_pairs(rng)
    before = [{k: v.copy() for k, v in params.items()} for params, _ in pairs]
    Adam(pairs, lr=0.01).step()
    for (params, grads), old in zip(pairs, before, strict=True):
        for key in params:
            np.testing.assert_allclose(params[key] - old[key], -0.01 * np.sign(grads[key]),
                                       rtol=1e-6)


def test_rmsprop_first_step_by_hand():
    pairs = one_pair([0.0, 0.0], [2.0, -0.5])
    RMSprop(pairs, lr=0.01, alpha=0.99, eps=1e-12).step()
    # s = 0.01 g^2, so g / sqrt(s) = 10 sign(g)
    np.testing.assert_allclose(pairs[0][0]["xy"], [-0.1, 0.1], rtol=1e-9)


def test_adamw_decays_weights_without_gradient():
    pairs = one_pair([1.0, -3.0], [0.0, 0.0])
    opt = AdamW(pairs, lr=0.1, weight_decay=0.5)
    opt.step()
    np.testing.assert_allclose(pairs[0][0]["xy"], [0.95, -2.85])
    opt.step()
    np.testing.assert_allclose(pairs[0][0]["xy"], [0.95**2, -3 * 0.95**2])


def test_adam_weight_decay_is_coupled():
    # with g = 0 the decay term wd * p is the whole gradient: Adam moves by lr * sign(p)
    pairs = one_pair([1.0, -3.0], [0.0, 0.0])
    Adam(pairs, lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(pairs[0][0]["xy"], [0.9, -2.9])


def test_clip_grad_norm_scales_all_grads_together():
    pairs = [({"a": np.zeros(1)}, {"a": np.array([3.0])}),
             ({"b": np.zeros(1)}, {"b": np.array([4.0])})]
    total = clip_grad_norm(pairs, max_norm=1.0)
    assert total == pytest.approx(5.0)
    assert pairs[0][1]["a"][0] == pytest.approx(0.6, rel=1e-5)
    assert pairs[1][1]["b"][0] == pytest.approx(0.8, rel=1e-5)
    # already short enough: untouched
    assert clip_grad_norm(pairs, max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    assert pairs[1][1]["b"][0] == pytest.approx(0.8, rel=1e-5)


def test_optimizer_clip_norm_and_last_grad_norm():
    pairs = one_pair([0.0, 0.0], [30.0, 40.0])
    opt = SGD(pairs, lr=1.0, clip_norm=5.0)
    opt.step()
    assert opt.last_grad_norm == pytest.approx(50.0)
    np.testing.assert_allclose(pairs[0][0]["xy"], [-3.0, -4.0], rtol=1e-6)


def test_schedule_as_lr_and_current_lr():
    pairs = one_pair([0.0], [1.0])
    opt = SGD(pairs, lr=exponential_decay(1.0, gamma=0.5))
    assert opt.current_lr == 1.0
    opt.step()
    opt.step()
    assert opt.current_lr == 0.25
    np.testing.assert_allclose(pairs[0][0]["xy"], [-1.5])
    opt.lr = 0.1  # a float can replace the schedule
    assert opt.current_lr == 0.1


def test_zero_grad():
    pairs = make_pairs(np.random.default_rng(2))
    g = pairs[0][1]["w"]
    SGD(pairs, lr=0.1).zero_grad()
    assert g is pairs[0][1]["w"] and not g.any() and not pairs[1][1]["b"].any()


# -- agreement with PyTorch --------------------------------------------------------
TORCH_CASES = [
    ("SGD", dict(lr=0.1), dict(lr=0.1), None),
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9), None),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True),
     dict(lr=0.1, momentum=0.9, nesterov=True), None),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1),
     dict(lr=0.1, momentum=0.5, weight_decay=0.1), None),
    ("RMSprop", dict(lr=0.01), dict(lr=0.01), None),
    ("RMSprop", dict(lr=0.01, eps=0.5), dict(lr=0.01, eps=0.5), None),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1),
     dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1), None),
    ("Adam", dict(lr=0.01), dict(lr=0.01), None),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None),
    ("Adam", dict(lr=0.01, eps=0.5), dict(lr=0.01, eps=0.5), None),  # eps matters: placement
    ("AdamW", dict(lr=0.01), dict(lr=0.01), None),
    ("AdamW", dict(lr=0.01, weight_decay=0.3), dict(lr=0.01, weight_decay=0.3), None),
    ("SGD", dict(lr=0.1, momentum=0.9, clip_norm=1.0), dict(lr=0.1, momentum=0.9), 1.0),
    ("Adam", dict(lr=0.01, clip_norm=2.0), dict(lr=0.01), 2.0),
]


@pytest.mark.parametrize("name, ours_kw, torch_kw, clip", TORCH_CASES)
def test_matches_torch(name, ours_kw, torch_kw, clip):
    torch = pytest.importorskip("torch")
    import nnlearn.optim as optim

    rng = np.random.default_rng(3)
    pairs = make_pairs(rng, shapes=[{"w": (7, 5), "b": (5,)}, {"w": (5, 2), "b": (2,)}])
    tensors = [torch.tensor(p, requires_grad=True) for p in arrays(pairs, 0)]
    ours = getattr(optim, name)(pairs, **ours_kw)
    theirs = getattr(torch.optim, name)(tensors, **torch_kw)
    for _ in range(8):
        for g, t in zip(arrays(pairs, 1), tensors, strict=True):
            g[...] = rng.standard_normal(g.shape) * 3  # in place, as layers do
            t.grad = torch.tensor(g.copy())
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(tensors, clip)
        ours.step()
        theirs.step()
        for p, t in zip(arrays(pairs, 0), tensors, strict=True):
            np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    pairs = make_pairs(np.random.default_rng(4))
    tensors = [torch.zeros(g.shape, dtype=torch.float64) for g in arrays(pairs, 1)]
    for t, g in zip(tensors, arrays(pairs, 1), strict=True):
        t.grad = torch.tensor(g.copy())
    expected = torch.nn.utils.clip_grad_norm_(tensors, 0.5)
    total = clip_grad_norm(pairs, 0.5)
    assert total == pytest.approx(float(expected), rel=1e-9)
    for t, g in zip(tensors, arrays(pairs, 1), strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-9)


def test_schedule_matches_torch_scheduler():
    torch = pytest.importorskip("torch")
    pairs = make_pairs(np.random.default_rng(5))
    tensors = [torch.tensor(p, requires_grad=True) for p in arrays(pairs, 0)]
    ours = Adam(pairs, lr=exponential_decay(0.05, gamma=0.8))
    theirs = torch.optim.Adam(tensors, lr=0.05)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(theirs, gamma=0.8)
    for t, g in zip(tensors, arrays(pairs, 1), strict=True):
        t.grad = torch.tensor(g.copy())
    for _ in range(6):
        assert ours.current_lr == pytest.approx(scheduler.get_last_lr()[0])
        ours.step()
        theirs.step()
        scheduler.step()
    for p, t in zip(arrays(pairs, 0), tensors, strict=True):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-6, atol=1e-9)


# -- dtypes, in-place updates, fresh gradients -----------------------------------
ALL = [
    (SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Momentum, dict(lr=0.1)),
    (RMSprop, dict(weight_decay=0.01)),
    (Adam, dict(weight_decay=0.01, clip_norm=1.0)),
    (AdamW, dict(lr=lambda k: np.float64(1e-3))),  # a schedule returning a float64 scalar
]


@pytest.mark.parametrize("cls, kwargs", ALL)
def test_float32_stays_float32_and_updates_in_place(cls, kwargs):
    pairs = make_pairs(np.random.default_rng(6), dtype=np.float32)
    before = [(p, p.copy()) for p in arrays(pairs, 0)]
    opt = cls(pairs, **kwargs)
    for _ in range(2):
        opt.step()
    for (p, old), now in zip(before, arrays(pairs, 0), strict=True):
        assert now is p  # the very same array, updated in place
        assert p.dtype == np.float32
        assert not np.array_equal(p, old)
    for state in opt.state.values():
        for value in state.values():
            assert value.dtype == np.float32


def test_grads_are_read_afresh_each_step():
    pairs = one_pair([0.0], [1.0])
    opt = SGD(pairs, lr=1.0)
    opt.step()
    pairs[0][1]["xy"] = np.array([10.0])  # a new array, not written in place
    opt.step()
    np.testing.assert_allclose(pairs[0][0]["xy"], [-11.0])


# -- argument errors -------------------------------------------------------------
BAD = [
    (Adam, dict(lr=-1), "lr", "-1"),
    (Adam, dict(lr="fast"), "lr", "'fast'"),
    (SGD, dict(lr=0.0), "lr", "0.0"),
    (SGD, dict(lr=0.1, momentum=1.5), "momentum", "1.5"),
    (SGD, dict(lr=0.1, nesterov=True), "nesterov", "momentum=0.0"),
    (SGD, dict(lr=0.1, nesterov="yes"), "nesterov", "'yes'"),
    (Momentum, dict(lr=0.1, beta=-0.1), "beta", "-0.1"),
    (RMSprop, dict(alpha=1.0), "alpha", "1.0"),
    (RMSprop, dict(eps=0), "eps", "0"),
    (Adam, dict(betas=(0.9, 1.0)), "betas", "(0.9, 1.0)"),
    (Adam, dict(betas=0.9), "betas", "0.9"),
    (Adam, dict(weight_decay=-0.1), "weight_decay", "-0.1"),
    (AdamW, dict(clip_norm=0), "clip_norm", "0"),
    (Adam, dict(lr=float("nan")), "lr", "nan"),
]


@pytest.mark.parametrize("cls, kwargs, name, got", BAD)
def test_bad_arguments_name_parameter_and_value(cls, kwargs, name, got):
    pairs = one_pair([0.0], [0.0])
    if cls in (SGD, Momentum) and "lr" not in kwargs:
        kwargs = dict(kwargs, lr=0.1)
    with pytest.raises(ValueError) as info:
        cls(pairs, **kwargs)
    message = str(info.value)
    assert f"'{name}' parameter of {cls.__name__}" in message
    assert got in message


def test_setting_a_bad_lr_raises():
    opt = Adam(one_pair([0.0], [0.0]))
    with pytest.raises(ValueError, match=r"The 'lr' parameter of Adam must be a float > 0"):
        opt.lr = -1


@pytest.mark.parametrize("parameters, error, fragment", [
    ([], ValueError, "no parameters"),
    ([({}, {})], ValueError, "no parameters"),
    ({"w": np.zeros(2)}, TypeError, "Got a dict"),
    (({"w": np.zeros(2)}, {"w": np.zeros(2)}), TypeError, "wrap a single pair in a list"),
    ([({"w": np.zeros(2)},)], TypeError, "parameters[0]"),
    ([({"w": np.zeros(2)}, {"b": np.zeros(2)})], ValueError, "same keys"),
    ([({"w": np.zeros(2)}, {"w": np.zeros(3)})], ValueError, "shaped like"),
    ([({"w": np.zeros(2, dtype=int)}, {"w": np.zeros(2)})], TypeError, "float ndarray"),
])
def test_bad_parameters(parameters, error, fragment):
    with pytest.raises(error) as info:
        SGD(parameters, lr=0.1)
    assert fragment in str(info.value)


def test_clip_grad_norm_bad_max_norm():
    with pytest.raises(ValueError, match=r"'max_norm' parameter of clip_grad_norm .* Got -2"):
        clip_grad_norm(one_pair([0.0], [1.0]), -2)


def test_repr():
    opt = Adam(one_pair([0.0], [0.0]), lr=exponential_decay(0.1, 0.5))
    assert repr(opt) == ("Adam(lr=exponential_decay(lr=0.1, gamma=0.5), betas=(0.9, 0.999), "
                         "eps=1e-08, weight_decay=0.0, clip_norm=None)")
    assert repr(Momentum(one_pair([0.0], [0.0]), lr=0.1)).startswith("Momentum(lr=0.1, beta=0.9,")


# -- an ill-conditioned quadratic -----------------------------------------------
@pytest.mark.parametrize("cls, kwargs, steps", [
    (SGD, dict(lr=0.015), 1500),
    (Momentum, dict(lr=0.015, beta=0.9), 300),
    (SGD, dict(lr=0.01, momentum=0.9, nesterov=True), 300),
    (RMSprop, dict(lr=lambda k: 0.02 * 0.99**k), 1000),
    (Adam, dict(lr=lambda k: 0.1 * 0.99**k), 1000),
    (AdamW, dict(lr=lambda k: 0.1 * 0.99**k, weight_decay=0.0), 1000),
])
def test_minimises_ill_conditioned_quadratic(cls, kwargs, steps):
    # f(x, y) = (x^2 + 100 y^2) / 2: curvatures 1 and 100 (condition number 100)
    curvature = np.array([1.0, 100.0])
    xy, dxy = np.array([1.0, 1.0]), np.zeros(2)
    opt = cls([({"xy": xy}, {"xy": dxy})], **kwargs)
    for _ in range(steps):
        np.multiply(curvature, xy, out=dxy)  # gradient, written in place like a layer does
        opt.step()
    assert np.abs(xy).max() < 1e-3, xy
