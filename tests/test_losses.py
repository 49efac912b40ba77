"""Losses: gradients (numerical check), agreement with PyTorch, stability, dtypes, errors."""

import warnings

import numpy as np
import pytest

from nnlearn.gradcheck import check_loss
from nnlearn.losses import (
    MSE,
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,
    Loss,
    SoftmaxCrossEntropy,
)

TOL = 1e-7


def one_hot(y, C):
    return np.eye(C)[y]


def cases(rng):
    """(name, loss, out, y) for every loss and every target format, float64."""
    N, C = 6, 4
    logits = rng.standard_normal((N, C)) * 2
    labels = rng.integers(0, C, N)
    z = rng.standard_normal(N) * 2
    p = rng.uniform(0.05, 0.95, N)
    bits = rng.integers(0, 2, N)
    return [
        ("mse", MSE(), rng.standard_normal((N, 3)), rng.standard_normal((N, 3))),
        ("mse (N,)", MSE(), rng.standard_normal(N), rng.standard_normal(N)),
        ("mse (N,1) vs (N,)", MSE(), rng.standard_normal((N, 1)), rng.standard_normal(N)),
        ("bce (N,)", BinaryCrossEntropy(), p, bits),
        ("bce (N,1)", BinaryCrossEntropy(), p[:, None], bits[:, None].astype(float)),
        ("bce soft targets", BinaryCrossEntropy(), p, rng.uniform(0, 1, N)),
        ("bce logits (N,)", BinaryCrossEntropyWithLogits(), z, bits),
        ("bce logits (N,1)", BinaryCrossEntropyWithLogits(), z[:, None], bits[:, None]),
        ("sce labels", SoftmaxCrossEntropy(), logits, labels),
        ("sce float labels", SoftmaxCrossEntropy(), logits, labels.astype(float)),
        ("sce one-hot", SoftmaxCrossEntropy(), logits, one_hot(labels, C)),
        ("sce probabilities", SoftmaxCrossEntropy(), logits, rng.dirichlet(np.ones(C), N)),
    ]


CASES = cases(np.random.default_rng(0))
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, loss, out, y", CASES, ids=IDS)
def test_backward_matches_numerical_gradient(name, loss, out, y):
    result = check_loss(loss, out, y)
    assert result.max_rel_error < TOL, str(result)


@pytest.mark.parametrize("name, loss, out, y", CASES, ids=IDS)
def test_backward_shape_and_float32_dtype(name, loss, out, y):
    value = loss(out.astype(np.float32), y)
    assert isinstance(value, float) and np.isfinite(value)
    dout = loss.backward()
    assert dout.shape == out.shape and dout.dtype == np.float32


def test_known_values():
    assert MSE()(np.array([1.0, 2.0]), np.array([0.0, 4.0])) == pytest.approx(2.5)
    bce = BinaryCrossEntropy()(np.array([0.5, 0.5]), np.array([0, 1]))
    assert bce == pytest.approx(np.log(2))
    assert BinaryCrossEntropyWithLogits()(np.zeros(3), np.array([0, 1, 1])) == pytest.approx(
        np.log(2)
    )
    assert SoftmaxCrossEntropy()(np.zeros((2, 4)), np.array([0, 3])) == pytest.approx(np.log(4))


def test_integer_labels_equal_one_hot():
    rng = np.random.default_rng(1)
    z, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    loss = SoftmaxCrossEntropy()
    value, dout = loss(z, y), loss.backward()
    assert loss(z, one_hot(y, 3)) == pytest.approx(value, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), dout, rtol=1e-14)


def test_backward_can_be_called_twice():
    loss = SoftmaxCrossEntropy()
    loss(np.array([[1.0, 2.0, 3.0]]), np.array([1]))
    np.testing.assert_array_equal(loss.backward(), loss.backward())


# -- stability ---------------------------------------------------------------------
def test_huge_inputs_are_finite_and_silent():
    big = np.array([-1e4, -1e4, 1e4, 1e4])
    bits = np.array([0, 1, 0, 1])
    with np.errstate(all="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        bcel = BinaryCrossEntropyWithLogits()
        value = bcel(big, bits)
        dz = bcel.backward()
        sce = SoftmaxCrossEntropy()
        ce = sce(np.array([[1e4, 0, -1e4], [-1e4, 1e4, 0]]), np.array([0, 0]))
        dce = sce.backward()
        bce = BinaryCrossEntropy()
        clipped = bce(np.array([0.0, 0.0, 1.0, 1.0]), bits)  # log(0) avoided by the clip
        dp = bce.backward()
    assert value == pytest.approx(2e4 / 4)  # two samples wrong by 1e4, two right
    np.testing.assert_allclose(dz, [0, -0.25, 0.25, 0])
    assert ce == pytest.approx(2e4 / 2)
    np.testing.assert_allclose(dce.sum(axis=1), 0, atol=1e-12)
    assert clipped == pytest.approx(-np.log(1e-7) / 2, rel=1e-6)
    assert np.all(np.isfinite(dp))
    assert dp[1] < 0 and dp[2] > 0  # confidently wrong predictions are pushed back


def test_softmax_cross_entropy_float32_huge_logits():
    z = np.array([[3e4, -3e4, 0]], dtype=np.float32)
    loss = SoftmaxCrossEntropy()
    with np.errstate(all="raise", under="ignore"):
        assert loss(z, np.array([1])) == pytest.approx(6e4)
        assert loss.backward().dtype == np.float32


# -- errors ---------------------------------------------------------------------------
def test_backward_before_forward():
    for loss in (
        MSE(),
        BinaryCrossEntropy(),
        BinaryCrossEntropyWithLogits(),
        SoftmaxCrossEntropy(),
    ):
        with pytest.raises(RuntimeError, match="before forward"):
            loss.backward()


def test_base_class_is_abstract():
    with pytest.raises(NotImplementedError, match="Loss.forward"):
        Loss()(np.zeros(2), np.zeros(2))


@pytest.mark.parametrize(
    "y, error, message",
    [
        (
            np.zeros(31, int),
            ValueError,
            r"y of shape \(N,\) = \(32,\) .* \(N, C\) = \(32, 10\).*"
            r"got \(31,\)",
        ),
        (np.zeros((32, 9)), ValueError, r"got \(32, 9\)"),
        (
            np.r_[np.zeros(5, int), 10, np.zeros(26, int)],
            ValueError,
            r"labels in \[0, 10\); got 10 at index 5",
        ),
        (np.r_[np.zeros(3, int), -1, np.zeros(28, int)], ValueError, r"got -1 at index 3"),
        (
            np.r_[np.zeros(7), 2.5, np.zeros(24)],
            ValueError,
            r"integer class labels.*2.5 at index 7",
        ),
        (np.array(["a"] * 32), TypeError, r"integer class labels y; got dtype <U1"),
        (np.full((32, 10), 0.2), ValueError, r"row 0 sums to 2"),
        (np.eye(10)[np.zeros(32, int)] * 2 - 1, ValueError, r">= 0; got -1 at index \(0, 1\)"),
    ],
    ids=["short", "wrong C", "too big", "negative", "fraction", "strings", "sum", "negative p"],
)
def test_softmax_cross_entropy_bad_targets(y, error, message):
    z = np.zeros((32, 10))
    with pytest.raises(error, match=message):
        SoftmaxCrossEntropy()(z, y)


def test_softmax_cross_entropy_wrong_rank():
    with pytest.raises(ValueError, match=r"out \(logits\) of shape \(N, C\); got shape \(32,\)"):
        SoftmaxCrossEntropy()(np.zeros(32), np.zeros(32, int))


@pytest.mark.parametrize("loss", [MSE(), BinaryCrossEntropy(), BinaryCrossEntropyWithLogits()])
def test_shape_mismatch(loss):
    name = type(loss).__name__
    with pytest.raises(
        ValueError,
        match=rf"{name} expected y of the same shape as out \(8, 1\); "
        r"got \(7,\)",
    ):
        loss(np.full((8, 1), 0.5), np.zeros(7))
    with pytest.raises(ValueError, match=r"out \(8, 2\); got \(8,\)"):
        loss(np.full((8, 2), 0.5), np.zeros(8))  # no silent broadcasting


def test_empty_batch():
    with pytest.raises(ValueError, match=r"non-empty batch axis.*got shape \(0, 3\)"):
        MSE()(np.zeros((0, 3)), np.zeros((0, 3)))


def test_binary_cross_entropy_range_errors():
    with pytest.raises(
        ValueError,
        match=r"probabilities in \[0, 1\]; got values in \[-0.5, 2\]"
        r".*WithLogits",
    ):
        BinaryCrossEntropy()(np.array([-0.5, 2.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"targets y .* got values in \[0, 2\]"):
        BinaryCrossEntropyWithLogits()(np.zeros(2), np.array([0, 2]))
    for eps in (0, 0.5, -1e-7, "1e-7"):
        with pytest.raises(ValueError, match=r"'eps' parameter of BinaryCrossEntropy .* Got"):
            BinaryCrossEntropy(eps=eps)


# -- PyTorch as an independent oracle ----------------------------------------------------
def torch_value_and_grad(torch, loss_fn, out):
    t = torch.tensor(out, requires_grad=True)
    value = loss_fn(t)
    value.backward()
    return value.item(), t.grad.numpy()


@pytest.mark.parametrize("seed", range(3))
def test_against_torch(seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    N, C, D = rng.integers(1, 20), rng.integers(2, 12), rng.integers(1, 5)
    logits = rng.standard_normal((N, C)) * 3
    labels = rng.integers(0, C, N)
    probs = rng.dirichlet(np.ones(C), N)
    x, target = rng.standard_normal((N, D)), rng.standard_normal((N, D))
    p, bits, z = rng.uniform(0.01, 0.99, (N, 1)), rng.integers(0, 2, (N, 1)), rng.normal(0, 3, N)
    checks = [
        (MSE(), x, target, lambda t: F.mse_loss(t, torch.tensor(target))),
        (
            BinaryCrossEntropy(),
            p,
            bits,
            lambda t: F.binary_cross_entropy(t, torch.tensor(p * 0 + bits)),
        ),
        (
            BinaryCrossEntropyWithLogits(),
            z,
            bits[:, 0],
            lambda t: F.binary_cross_entropy_with_logits(t, torch.tensor(bits[:, 0] * 1.0)),
        ),
        (SoftmaxCrossEntropy(), logits, labels, lambda t: F.cross_entropy(t, torch.tensor(labels))),
        (SoftmaxCrossEntropy(), logits, probs, lambda t: F.cross_entropy(t, torch.tensor(probs))),
    ]
    for loss, out, y, torch_loss in checks:
        value, grad = torch_value_and_grad(torch, torch_loss, out)
        assert loss(out, y) == pytest.approx(value, rel=1e-6, abs=1e-12), type(loss).__name__
        np.testing.assert_allclose(loss.backward(), grad, rtol=1e-6, atol=1e-12)
