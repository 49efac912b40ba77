"""Toy datasets and mini-batching.

Every dataset comes back in the same format, ready for a model::

    x : ndarray of shape (N, 2), float32     # the points
    y : ndarray of shape (N,),   int64       # their class, 0 .. C-1

* :func:`logic_gate` / :func:`xor` — the four corners of the unit square
  labelled by AND, OR, NAND or XOR (lesson 01: a perceptron learns AND and
  OR, but no straight line separates XOR).
* :func:`moons`, :func:`circles` — two interleaved classes that need a
  non-linear boundary (wrappers around scikit-learn's generators).
* :func:`spirals` — the cs231n spiral, C arms winding around the origin.

Then :func:`train_val_split` holds out a validation set, :func:`minibatches`
cuts an epoch into batches and :func:`one_hot` turns labels into rows of the
identity matrix.

Randomness follows the rest of nnlearn: ``rng`` is an ``int`` seed, a
``np.random.Generator`` or ``None`` (see :func:`nnlearn.init.as_rng`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from sklearn.datasets import make_circles, make_moons

from nnlearn.init import RngLike, as_rng
from nnlearn.validation import check_float, check_int, check_same_length

# The four corners of the unit square, in the order the truth tables use.
_GATE_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]]
_GATE_OUTPUTS = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
}


# -- logic gates -----------------------------------------------------------------
def logic_gate(name: str, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a two-input logic gate as a dataset.

    Parameters
    ----------
    name : one of "and", "or", "xor", "nand" (case-insensitive)
    dtype : floating dtype of ``x``

    Returns
    -------
    x : ndarray of shape (4, 2) — the inputs (0,0), (0,1), (1,0), (1,1)
    y : ndarray of shape (4,), int64 — the gate's output for each input
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _GATE_OUTPUTS:
        raise ValueError(
            f"The 'name' parameter of logic_gate must be one of {sorted(_GATE_OUTPUTS)}. "
            f"Got {name!r} instead."
        )
    x = np.array(_GATE_INPUTS, dtype=dtype)  # (4, 2)
    y = np.array(_GATE_OUTPUTS[key], dtype=np.int64)  # (4,)
    return x, y


def xor(dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: x of shape (4, 2), y = [0, 1, 1, 0] (int64).

    No single straight line separates the two classes, so a perceptron fails
    and a network with one hidden layer succeeds.
    """
    return logic_gate("xor", dtype=dtype)


# -- 2-D classification datasets -------------------------------------------------
def _check_noise(noise, owner: str) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.number)) or noise < 0:
        raise ValueError(
            f"The 'noise' parameter of {owner} must be a float >= 0. Got {noise!r} instead."
        )
    return float(noise)


def _sklearn_seed(rng: RngLike) -> int:
    """An int for scikit-learn's ``random_state``: the seed itself, or one drawn from the rng."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and 0 <= rng < 2**32:
        return int(rng)
    return int(as_rng(rng).integers(2**31 - 1))


def moons(n_samples: int = 1000, noise: float = 0.2,
          rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (``sklearn.datasets.make_moons``).

    Parameters
    ----------
    n_samples : total number of points N (split evenly between the 2 classes)
    noise : standard deviation of the Gaussian noise added to every point
    rng : int seed, Generator or None

    Returns
    -------
    x : ndarray of shape (N, 2), float32;  y : ndarray of shape (N,), int64 in {0, 1}
    """
    n_samples = check_int(n_samples, "n_samples", "moons")
    noise = _check_noise(noise, "moons")
    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=_sklearn_seed(rng))
    return x.astype(np.float32), y.astype(np.int64)


def circles(n_samples: int = 1000, noise: float = 0.1, factor: float = 0.5,
            rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (class 1) inside a large one (class 0) (``make_circles``).

    Parameters
    ----------
    n_samples : total number of points N
    noise : standard deviation of the Gaussian noise added to every point
    factor : radius of the inner circle relative to the outer one, in (0, 1)
    rng : int seed, Generator or None

    Returns
    -------
    x : ndarray of shape (N, 2), float32;  y : ndarray of shape (N,), int64 in {0, 1}
    """
    n_samples = check_int(n_samples, "n_samples", "circles")
    noise = _check_noise(noise, "circles")
    factor = check_float(factor, "factor", "circles", "in (0, 1)")
    x, y = make_circles(n_samples=n_samples, noise=noise, factor=factor,
                        random_state=_sklearn_seed(rng))
    return x.astype(np.float32), y.astype(np.int64)


def spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
            rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
    """The cs231n spiral: ``n_classes`` arms winding out of the origin.

    Point i of arm k sits at radius r_i and angle t_ki, where::

        r_i  = i / (n_per_class - 1)                       # 0 .. 1
        t_ki = 4 k + 4 r_i + noise * eps,   eps ~ N(0, 1)   # radians
        x    = (r sin t, r cos t)

    so every arm turns through 4 radians and the arms are interleaved: no
    linear classifier does better than chance by much, a small MLP separates
    them.

    Returns
    -------
    x : ndarray of shape (C * n_per_class, 2), float32
    y : ndarray of shape (C * n_per_class,), int64 — arm k's points are
        consecutive, with label k
    """
    n = check_int(n_per_class, "n_per_class", "spirals")
    C = check_int(n_classes, "n_classes", "spirals")
    noise = _check_noise(noise, "spirals")
    gen = as_rng(rng)
    r = np.linspace(0.0, 1.0, n)  # (n,)
    t = 4.0 * np.arange(C)[:, None] + 4.0 * r[None, :]  # (C, 1) + (1, n) -> (C, n)
    t = t + noise * gen.standard_normal((C, n))  # (C, n)
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=-1)  # (C, n, 2)
    x = x.reshape(C * n, 2).astype(np.float32)  # (N, 2)
    y = np.repeat(np.arange(C, dtype=np.int64), n)  # (N,)
    return x, y


# -- splitting and batching ------------------------------------------------------
def _check_xy(x, y, owner: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x), np.asarray(y)
    for name, arr in (("x", x), ("y", y)):
        if arr.ndim == 0:
            raise ValueError(f"{owner}: {name} must be an array with samples along axis 0; "
                             f"got a scalar {arr!r}")
    check_same_length(x, y)
    return x, y


def train_val_split(x, y, val_fraction: float = 0.2, rng: RngLike = None,
                    stratify: bool = False) -> tuple[np.ndarray, ...]:
    """Hold out a random ``val_fraction`` of the samples for validation.

    Parameters
    ----------
    x : ndarray of shape (N, ...);  y : ndarray of shape (N,) or (N, K)
    val_fraction : fraction of the N samples to hold out, in (0, 1);
        ``round(N * val_fraction)`` samples go to the validation set
    rng : int seed, Generator or None
    stratify : keep each class's share the same in both parts (y must be
        1-D labels). Class c gets ``N_c * val_fraction`` validation samples,
        rounded so that the total is still ``round(N * val_fraction)``.

    Returns
    -------
    x_train, y_train, x_val, y_val : new arrays (copies), in shuffled order

    Raises
    ------
    ValueError if x and y differ in length, val_fraction is outside (0, 1),
    or either part would be empty.
    """
    x, y = _check_xy(x, y, "train_val_split")
    val_fraction = check_float(val_fraction, "val_fraction", "train_val_split", "in (0, 1)")
    N = len(x)
    n_val = int(round(N * val_fraction))
    if not 0 < n_val < N:
        raise ValueError(
            f"train_val_split: val_fraction={val_fraction} of {N} samples gives {n_val} "
            f"validation and {N - n_val} training samples; both parts need at least one."
        )
    gen = as_rng(rng)
    if not stratify:
        perm = gen.permutation(N)  # (N,)
        val_idx, train_idx = perm[:n_val], perm[n_val:]
    else:
        if y.ndim != 1:
            raise ValueError(f"train_val_split: stratify=True needs 1-D class labels y; "
                             f"got y of shape {y.shape}")
        classes, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
        # Largest-remainder rounding: each class gets floor(N_c * f) validation
        # samples, and the ones still missing go to the largest fractional parts.
        quota = counts * val_fraction  # (K,)
        per_class = np.floor(quota).astype(np.int64)
        missing = n_val - per_class.sum()
        per_class[np.argsort(per_class - quota, kind="stable")[:missing]] += 1
        val_parts, train_parts = [], []
        for k in range(len(classes)):
            members = gen.permutation(np.flatnonzero(y_idx == k))
            val_parts.append(members[:per_class[k]])
            train_parts.append(members[per_class[k]:])
        val_idx = gen.permutation(np.concatenate(val_parts))
        train_idx = gen.permutation(np.concatenate(train_parts))
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]


def minibatches(x, y, batch_size: int, shuffle: bool = True,
                rng: RngLike = None, min_last: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x_batch, y_batch)`` pairs that cover one epoch.

    Parameters
    ----------
    x : ndarray of shape (N, ...);  y : ndarray of shape (N, ...)
    batch_size : B, the number of samples per batch; the last batch holds the
        ``N % B`` left-over samples when B does not divide N (it is kept)
    shuffle : visit the samples in a random order (one permutation per call)
    rng : int seed, Generator or None — used only when ``shuffle``
    min_last : a left-over batch smaller than this joins the batch before it
        (``Sequential.fit`` uses 2: BatchNorm cannot normalise a single sample,
        so with N % B == 1 the last batch holds B + 1 samples)

    Yields
    ------
    x_batch : ndarray of shape (B, ...);  y_batch : ndarray of shape (B, ...)
        Without shuffling these are views of x and y (no copy): don't write
        into them.

    Notes
    -----
    Every sample appears in exactly one batch per epoch. The inputs are
    checked and the permutation is drawn when ``minibatches`` is called, not
    at the first ``next()``.

    Why gather one batch at a time (``x[perm[i:i + B]]``) rather than the
    whole epoch up front (``xs = x[perm]`` and then slices ``xs[i:i + B]``)?
    Both copy the same bytes, but the up-front gather writes an array as large
    as x (188 MB for MNIST in float32) to main memory and the loop reads it
    back, while a batch (400 KB for B=128) is gathered into cache and used
    while it is still there. Measured on MNIST-sized data (N=60000, D=784,
    B=128, float32): 21 ms per epoch for per-batch gathers against 40 ms for
    the up-front gather (and still ~15% faster once a matmul consumes each
    batch), with no second copy of the dataset in memory.
    """
    x, y = _check_xy(x, y, "minibatches")
    B = check_int(batch_size, "batch_size", "minibatches")
    min_last = check_int(min_last, "min_last", "minibatches")
    N = len(x)
    perm = as_rng(rng).permutation(N) if shuffle else None  # (N,)
    starts = list(range(0, N, B))
    if len(starts) > 1 and N - starts[-1] < min_last:
        starts.pop()  # the small left-over joins the batch before it
    ends = starts[1:] + [N]
    return _iterate_batches(x, y, starts, ends, perm)


def _iterate_batches(x: np.ndarray, y: np.ndarray, starts: list[int], ends: list[int],
                     perm: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start, end in zip(starts, ends, strict=True):
        if perm is None:
            yield x[start:end], y[start:end]  # views
        else:
            idx = perm[start:end]  # (B,)
            yield x[idx], y[idx]  # gathered copies


def one_hot(y, num_classes: int | None = None, dtype=np.float32) -> np.ndarray:
    """Turn integer class labels into one-hot rows.

    ``out[n, c] = 1 if y[n] == c else 0``

    Parameters
    ----------
    y : ndarray of integer labels, shape (N,) (any shape works: the output
        has shape ``y.shape + (C,)``)
    num_classes : C; by default ``y.max() + 1``
    dtype : dtype of the output

    Returns
    -------
    out : ndarray of shape (N, C)

    Raises
    ------
    TypeError if y does not hold integers; ValueError if a label lies outside
    [0, C) or num_classes is not an int >= 1.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: y must hold integer class labels; got dtype {y.dtype}. "
            "Convert with y.astype(int) if the values are whole numbers."
        )
    if num_classes is None:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty y; pass num_classes")
        C = int(y.max()) + 1
    else:
        C = check_int(num_classes, "num_classes", "one_hot")
    if y.size:
        bad = (y < 0) | (y >= C)
        if bad.any():
            value = y[bad].flat[0]
            raise ValueError(
                f"one_hot: labels must lie in [0, {C}) for num_classes={C}; got label {value} "
                f"at index {tuple(int(i) for i in np.argwhere(bad)[0])}"
            )
    flat = y.reshape(-1)  # (N,)
    out = np.zeros((flat.size, C), dtype=dtype)  # (N, C)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(*y.shape, C)
