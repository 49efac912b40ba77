"""Tests for nnlearn.data: toy datasets, splitting, batching, one-hot."""

import numpy as np
import pytest

from nnlearn import data

# -- logic gates -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]), ("NAND", [1, 1, 1, 0])],
)
def test_logic_gate_truth_tables(name, expected):
    x, y = data.logic_gate(name)
    assert x.shape == (4, 2) and x.dtype == np.float32
    assert y.dtype == np.int64
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, expected)


def test_xor_matches_gate_and_dtype():
    x, y = data.xor(dtype=np.float64)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    np.testing.assert_array_equal(x, data.logic_gate("xor")[0])


def test_logic_gate_unknown_name():
    with pytest.raises(ValueError, match=r"'name'.*'and'.*Got 'xnor'"):
        data.logic_gate("xnor")


# -- 2-D datasets ------------------------------------------------------------------

DATASETS = {
    "moons": lambda rng: data.moons(n_samples=101, rng=rng),
    "circles": lambda rng: data.circles(n_samples=101, rng=rng),
    "spirals": lambda rng: data.spirals(n_per_class=33, n_classes=3, rng=rng),
}


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_shapes_and_dtypes(name):
    x, y = DATASETS[name](0)
    N = len(x)
    assert N in (99, 101)
    assert x.shape == (N, 2) and x.dtype == np.float32
    assert y.shape == (N,) and y.dtype == np.int64
    assert np.isfinite(x).all()


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_seeding(name):
    make = DATASETS[name]
    x1, y1 = make(7)
    x2, y2 = make(7)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    x3, _ = make(8)
    assert not np.array_equal(x1, x3)
    # A Generator gives reproducible data too, and advances its stream.
    gen_a, gen_b = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(make(gen_a)[0], make(gen_b)[0])
    assert not np.array_equal(make(gen_a)[0], make(np.random.default_rng(3))[0])


def test_moons_circles_classes_balanced():
    for _, y in (data.moons(200, rng=0), data.circles(200, rng=0)):
        np.testing.assert_array_equal(np.bincount(y), [100, 100])


def test_circles_factor_sets_inner_radius():
    x, y = data.circles(400, noise=0.0, factor=0.3, rng=0)
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-5)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-5)


def test_spirals_matches_cs231n_loop():
    """The vectorised spiral equals the original cs231n loop, noise included."""
    n, C = 50, 4
    x, y = data.spirals(n_per_class=n, n_classes=C, noise=0.2, rng=5)
    eps = np.random.default_rng(5).standard_normal((C, n))
    x_ref = np.zeros((n * C, 2))
    for j in range(C):
        ix = range(n * j, n * (j + 1))
        r = np.linspace(0.0, 1, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + eps[j] * 0.2
        x_ref[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
    np.testing.assert_allclose(x, x_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y, np.repeat(np.arange(C), n))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.moons(n_samples=0), r"'n_samples' parameter of moons"),
        (lambda: data.moons(noise=-0.1), r"'noise' parameter of moons.*Got -0.1"),
        (lambda: data.circles(factor=1.0), r"'factor' parameter of circles"),
        (lambda: data.spirals(n_classes=0), r"'n_classes' parameter of spirals"),
    ],
)
def test_dataset_parameter_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_rng_type():
    with pytest.raises(TypeError, match="rng"):
        data.spirals(rng="seed")


# -- train_val_split ---------------------------------------------------------------


def test_split_sizes_partition_and_reproducibility():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50)
    x_tr, y_tr, x_val, y_val = data.train_val_split(x, y, 0.2, rng=0)
    assert x_tr.shape == (40, 2) and x_val.shape == (10, 2)
    assert y_tr.shape == (40,) and y_val.shape == (10,)
    # A partition: every sample once, pairs kept together.
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)
    np.testing.assert_array_equal(x_tr[:, 0], 2 * y_tr)
    np.testing.assert_array_equal(x_val[:, 0], 2 * y_val)
    again = data.train_val_split(x, y, 0.2, rng=0)
    np.testing.assert_array_equal(again[3], y_val)
    assert not np.array_equal(data.train_val_split(x, y, 0.2, rng=1)[3], y_val)


def test_split_returns_copies():
    x, y = np.zeros((10, 2)), np.zeros(10, dtype=int)
    x_tr, *_ = data.train_val_split(x, y, 0.5, rng=0)
    x_tr[:] = 1
    assert (x == 0).all()


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    x = np.random.default_rng(0).standard_normal((1000, 3))
    _, y_tr, _, y_val = data.train_val_split(x, y, 0.2, rng=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_val), [100, 60, 40])
    np.testing.assert_array_equal(np.bincount(y_tr), [400, 240, 160])
    assert not np.all(np.diff(y_val) >= 0), "validation set should be shuffled, not sorted"


def test_stratified_split_rounds_to_requested_total():
    # 0.25 of each class is fractional (2.5, 1.75, 0.75) but the total must be round(20 * 0.25).
    y = np.repeat([0, 1, 2], [10, 7, 3])
    _, y_tr, _, y_val = data.train_val_split(np.zeros((20, 1)), y, 0.25, rng=0, stratify=True)
    assert len(y_val) == 5 and len(y_tr) == 15
    assert np.all(np.abs(np.bincount(y_val, minlength=3) - np.array([10, 7, 3]) * 0.25) < 1)


def test_split_accepts_2d_targets():
    y = np.eye(4)[np.arange(20) % 4]  # (20, 4)
    _, y_tr, _, y_val = data.train_val_split(np.zeros((20, 3)), y, 0.25, rng=0)
    assert y_tr.shape == (15, 4) and y_val.shape == (5, 4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x": np.zeros((10, 2)), "y": np.zeros(9)}, r"same number of samples.*10.*9"),
        ({"val_fraction": 0.0}, r"'val_fraction'.*\(0, 1\).*Got 0.0"),
        ({"val_fraction": 1.0}, r"'val_fraction'.*Got 1.0"),
        ({"val_fraction": 0.01}, r"0 validation and 10 training"),
        ({"val_fraction": 0.99}, r"10 validation and 0 training"),
        ({"y": np.zeros((10, 2)), "stratify": True}, r"stratify=True needs 1-D"),
    ],
)
def test_split_errors(kwargs, match):
    args = {"x": np.zeros((10, 2)), "y": np.zeros(10), "val_fraction": 0.2, **kwargs}
    with pytest.raises(ValueError, match=match):
        data.train_val_split(**args)


# -- minibatches -------------------------------------------------------------------


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("N, B", [(10, 3), (12, 4), (5, 8), (1, 1)])
def test_minibatches_cover_every_sample_once(N, B, shuffle):
    x = np.arange(N * 2).reshape(N, 2)
    y = np.arange(N)
    batches = list(data.minibatches(x, y, B, shuffle=shuffle, rng=0))
    sizes = [len(yb) for _, yb in batches]
    assert sizes == [B] * (N // B) + ([N % B] if N % B else [])  # last partial batch kept
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), y)
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # x and y stay paired
    if not shuffle:
        np.testing.assert_array_equal(seen, y)


@pytest.mark.parametrize("N, B, min_last, sizes", [
    (65, 32, 2, [32, 33]),      # a lone left-over sample joins the batch before it
    (66, 32, 2, [32, 32, 2]),   # two are a batch of their own
    (1, 32, 2, [1]),            # a single batch is never dropped
    (65, 32, 1, [32, 32, 1]),   # the default keeps every left-over
])
def test_minibatches_merge_a_small_last_batch(N, B, min_last, sizes):
    x, y = np.zeros((N, 1)), np.arange(N)
    batches = list(data.minibatches(x, y, B, shuffle=True, rng=0, min_last=min_last))
    assert [len(yb) for _, yb in batches] == sizes
    np.testing.assert_array_equal(np.sort(np.concatenate([yb for _, yb in batches])), y)


def test_minibatches_shuffle_seeding():
    x, y = np.zeros((100, 1)), np.arange(100)

    def order(rng):
        return np.concatenate([yb for _, yb in data.minibatches(x, y, 16, rng=rng)])

    np.testing.assert_array_equal(order(0), order(0))
    assert not np.array_equal(order(0), order(1))
    assert not np.array_equal(order(0), y)
    gen = np.random.default_rng(0)
    assert not np.array_equal(order(gen), order(gen)), "a Generator gives new orders each epoch"


def test_minibatches_uses_one_permutation_per_call():
    x, y = np.zeros((50, 1)), np.arange(50)
    gen = np.random.default_rng(4)
    seen = np.concatenate([yb for _, yb in data.minibatches(x, y, 7, rng=gen)])
    np.testing.assert_array_equal(seen, np.random.default_rng(4).permutation(50))


def test_minibatches_validates_eagerly():
    with pytest.raises(ValueError, match=r"same number of samples.*5.*4"):
        data.minibatches(np.zeros((5, 2)), np.zeros(4), 2)  # no next() needed
    with pytest.raises(ValueError, match=r"'batch_size' parameter of minibatches.*Got 0"):
        data.minibatches(np.zeros((5, 2)), np.zeros(5), 0)


# -- one_hot -----------------------------------------------------------------------


def test_one_hot_values_and_dtype():
    out = data.one_hot([2, 0, 1, 2])
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1, 2]])
    out = data.one_hot(np.array([1, 0]), num_classes=5, dtype=np.float64)
    assert out.shape == (2, 5) and out.dtype == np.float64
    assert data.one_hot(np.zeros((2, 3), dtype=int), 4).shape == (2, 3, 4)
    assert data.one_hot(np.array([], dtype=int), 3).shape == (0, 3)


@pytest.mark.parametrize(
    "y, num_classes, error, match",
    [
        ([0, 3, 1], 3, ValueError, r"\[0, 3\).*label 3 at index \(1,\)"),
        ([0, -1], None, ValueError, r"label -1"),
        ([0.0, 1.0], None, TypeError, r"integer class labels; got dtype float64"),
        ([0, 1], 0, ValueError, r"'num_classes' parameter of one_hot"),
        (np.array([], dtype=int), None, ValueError, r"empty y"),
    ],
)
def test_one_hot_errors(y, num_classes, error, match):
    with pytest.raises(error, match=match):
        data.one_hot(y, num_classes)
