"""Real data sets: MNIST, Fashion-MNIST, and a small MNIST sample that ships with nnlearn.

* :func:`load_mnist`, :func:`load_fashion_mnist` — the official IDX files,
  downloaded once (mirrors, SHA-256 verified, atomic writes) into
  :func:`data_home` and verified again on every load (``mnist.py``).
* :func:`load_mnist_sample` — 4,000 + 1,000 real MNIST digits inside the
  package, for offline work, tests and quick mode (``sample.py``).
* :func:`read_idx` / :func:`parse_idx` — the IDX file format (``idx.py``).
* :func:`download`, :class:`RemoteFile` — the safe downloader (``download.py``).
"""

from nnlearn.datasets.download import (
    DATA_VARIABLE,
    ChecksumError,
    DownloadError,
    RemoteFile,
    data_home,
    download,
    sha256_of,
    verified,
)
from nnlearn.datasets.idx import parse_idx, read_idx, to_idx_bytes
from nnlearn.datasets.mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_FILES,
    FASHION_MNIST_MIRRORS,
    MNIST_FILES,
    MNIST_MIRRORS,
    DataNotFoundError,
    Dataset,
    load_fashion_mnist,
    load_mnist,
)
from nnlearn.datasets.sample import load_mnist_sample

__all__ = [
    "DATA_VARIABLE",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MIRRORS",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "ChecksumError",
    "DataNotFoundError",
    "Dataset",
    "DownloadError",
    "RemoteFile",
    "data_home",
    "download",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist_sample",
    "parse_idx",
    "read_idx",
    "sha256_of",
    "to_idx_bytes",
    "verified",
]
