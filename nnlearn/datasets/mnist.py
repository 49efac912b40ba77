"""MNIST and Fashion-MNIST: the four official IDX files, downloaded once and verified.

    from nnlearn.datasets import load_mnist

    x_train, y_train, x_test, y_test = load_mnist()      # (60000, 1, 28, 28) float32 in [0, 1]
    data = load_mnist(flatten=True, normalize=False)     # (60000, 784) uint8; data.x_train, ...

The first call downloads ``train-images-idx3-ubyte.gz`` (9.9 MB) and three
smaller files into ``<data home>/mnist`` (see :func:`nnlearn.datasets.data_home`:
the ``data_dir`` argument, ``$NNLEARN_DATA``, or ``~/.cache/nnlearn``). Every
call checks every file's SHA-256 again. Offline, copy the four files into that
folder (gzipped or not), or use the 5,000-digit sample that ships with nnlearn:
``load_mnist(offline_sample=True)``.

MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges, CC BY-SA 3.0.
Fashion-MNIST: Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research), MIT.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from nnlearn.datasets.download import (
    DATA_VARIABLE,
    ChecksumError,
    DownloadError,
    RemoteFile,
    data_home,
    download,
    find_verified,
)
from nnlearn.datasets.idx import read_idx

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_MIRRORS",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "DataNotFoundError",
    "Dataset",
    "load_fashion_mnist",
    "load_mnist",
]

# Sizes and SHA-256 of the files as the mirrors serve them, and of their decompressed content.
# MNIST: the .gz sums are the ones PyTorch's and TensorFlow's loaders check (MD5 f68b3c2d...
# for the training images in torchvision); the label content sums were re-computed here from
# the labels. Fashion-MNIST: the .gz sums (torchvision MD5 8d4fb7e6... for the training
# images) were re-computed here from Debian's dataset-fashion-mnist package, whose files carry
# the same deflate streams under a normalised gzip header (original header: mtime 2017-08-31).
MNIST_FILES = {
    "train_images": RemoteFile("train-images-idx3-ubyte.gz", 9_912_422,
                               "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                               "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": RemoteFile("train-labels-idx1-ubyte.gz", 28_881,
                               "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                               "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": RemoteFile("t10k-images-idx3-ubyte.gz", 1_648_877,
                              "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                              "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": RemoteFile("t10k-labels-idx1-ubyte.gz", 4_542,
                              "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                              "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
    "https://yann.lecun.com/exdb/mnist/",  # the original site (often refuses scripts)
)

FASHION_MNIST_FILES = {
    "train_images": RemoteFile("train-images-idx3-ubyte.gz", 26_421_880,
                               "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                               "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": RemoteFile("train-labels-idx1-ubyte.gz", 29_515,
                               "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                               "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": RemoteFile("t10k-images-idx3-ubyte.gz", 4_422_102,
                              "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                              "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": RemoteFile("t10k-labels-idx1-ubyte.gz", 5_148,
                              "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                              "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # Zalando's own (http only)
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras' mirror
)
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


class DataNotFoundError(FileNotFoundError):
    """The data files are neither in the data folder nor downloadable."""


class Dataset(NamedTuple):
    """A train/test split; unpacks as ``x_train, y_train, x_test, y_test``.

    x_* : ndarray (N, 1, 28, 28) or (N, 784), float32 in [0, 1] or uint8 in [0, 255]
    y_* : ndarray (N,), int64 class labels 0..9
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_mnist(data_dir: str | os.PathLike | None = None, *, flatten: bool = False,
               normalize: bool = True, download: bool = True, progress: bool = True,
               offline_sample: bool = False) -> Dataset:
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28 x 28 pixels.

    Parameters
    ----------
    data_dir : root data folder; the files live in ``data_dir/mnist``. Default:
        ``$NNLEARN_DATA``, else the per-user cache (``~/.cache/nnlearn`` on Linux)
    flatten : images as rows (N, 784) instead of (N, 1, 28, 28)
    normalize : float32 in [0, 1] (pixel / 255) instead of the stored uint8
    download : fetch missing or corrupt files from :data:`MNIST_MIRRORS`
    progress : show download progress bars
    offline_sample : return the small sample that ships with nnlearn instead
        (:func:`nnlearn.datasets.load_mnist_sample`: 4,000 + 1,000 digits, no files needed)

    Returns
    -------
    Dataset ``(x_train, y_train, x_test, y_test)``, labels int64 (N,)

    Raises
    ------
    DataNotFoundError if a file is missing (or corrupt) and cannot be
    downloaded; the message says which files, where to put them, and how to
    use the offline sample.
    """
    if offline_sample:
        from nnlearn.datasets.sample import load_mnist_sample

        return load_mnist_sample(flatten=flatten, normalize=normalize)
    return _load("MNIST", "mnist", MNIST_FILES, MNIST_MIRRORS, data_dir, flatten, normalize,
                 download, progress, "load_mnist")


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, *, flatten: bool = False,
                       normalize: bool = True, download: bool = True,
                       progress: bool = True) -> Dataset:
    """Fashion-MNIST: Zalando's 28 x 28 clothing images, MNIST's format, 10 classes.

    Same arguments and result as :func:`load_mnist`; the files live in
    ``data_dir/fashion-mnist`` (so Debian's ``dataset-fashion-mnist`` package
    works with ``data_dir="/usr/share/datasets"``). Class names:
    :data:`FASHION_MNIST_CLASSES`.
    """
    return _load("Fashion-MNIST", "fashion-mnist", FASHION_MNIST_FILES, FASHION_MNIST_MIRRORS,
                 data_dir, flatten, normalize, download, progress, "load_fashion_mnist")


def _load(title, subfolder, files, mirrors, data_dir, flatten, normalize, allow_download,
          progress, owner) -> Dataset:
    for name, value in (("flatten", flatten), ("normalize", normalize), ("download", allow_download)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"The '{name}' parameter of {owner} must be a bool. Got {value!r} instead.")
    folder = data_home(data_dir) / subfolder
    paths = {key: find_verified(folder, file) for key, file in files.items()}
    failures: list[str] = []
    for key, file in files.items():
        if paths[key] is None and allow_download:
            try:
                paths[key] = download(file, mirrors, folder, progress=progress)
            except (DownloadError, PermissionError) as exc:
                failures.append(str(exc))
                if not isinstance(exc, ChecksumError):
                    break  # the network is down (or the folder read-only): the other files would fail too
    missing = [files[key] for key, path in paths.items() if path is None]
    if missing:
        raise DataNotFoundError(_not_found_message(title, subfolder, files, missing, folder, mirrors,
                                                   failures, allow_download, owner))
    arrays = {key: read_idx(path) for key, path in paths.items()}
    x_train, y_train = _prepare(arrays["train_images"], arrays["train_labels"], flatten, normalize)
    x_test, y_test = _prepare(arrays["test_images"], arrays["test_labels"], flatten, normalize)
    return Dataset(x_train, y_train, x_test, y_test)


def _prepare(images: np.ndarray, labels: np.ndarray, flatten: bool, normalize: bool):
    """uint8 (N, 28, 28) images and (N,) labels -> the layout and dtype asked for."""
    N = len(images)
    x = images.reshape(N, -1) if flatten else images.reshape(N, 1, *images.shape[1:])  # (N, 784) / (N, 1, 28, 28)
    if normalize:
        x = x.astype(np.float32) / np.float32(255)
    return x, labels.astype(np.int64)


def _not_found_message(title, subfolder, files, missing, folder: Path, mirrors, failures, tried,
                       owner) -> str:
    names = ", ".join(file.name for file in missing)
    lines = [f"{title} is not available: {len(missing)} file(s) missing or corrupt in {folder}: {names}."]
    if failures:
        lines.append("Downloading failed:\n  " + "\n  ".join("\n  ".join(f.splitlines()) for f in failures))
    elif not tried:
        lines.append("Nothing was downloaded (download=False).")
    every = ", ".join(file.name for file in files.values())
    lines += [
        "To fix it, do one of:",
        f"  * connect to the internet and call {owner}() again (behind a proxy, first set "
        "HTTPS_PROXY=http://host:port, and HTTP_PROXY likewise);",
        f"  * copy the four files ({every}; from {mirrors[0]} or another mirror, gzipped or not) into "
        f"{folder}, or into <folder>/{subfolder} and pass data_dir='<folder>' or set {DATA_VARIABLE}=<folder>;",
    ]
    if subfolder == "mnist":
        lines.append("  * or work offline with the 5,000-digit sample that ships with nnlearn: "
                     "load_mnist(offline_sample=True).")
    return "\n".join(lines)
