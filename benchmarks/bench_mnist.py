"""Benchmark: how accurate do nnlearn's MLP and CNN get on the full MNIST, and how fast?

Targets (issue 11, 2 CPU cores): MLP >= 98.3 % test accuracy in <= 60 s of training,
CNN >= 99.2 % in <= 5 minutes. Both train from scratch on the 60,000 training digits and are
evaluated once, at the end, on the 10,000 test digits:

* MLP 784-512-256-10, ReLU, dropout 0.2, Adam with cosine decay, batch 128; every epoch sees
  a fresh randomly shifted (<= 2 px) and rotated (<= 8 degrees) copy of the training digits;
* CNN conv3x3(16)-pool-conv3x3(32)-pool-dense(128)-dropout-10, the same recipe.

The timed part is training (augmentation included), not loading or the final evaluation.
``--data`` is a folder with the four IDX files (gzipped or not), or an ``.npz`` with
``train_images, train_labels, test_images, test_labels`` (e.g. the benchmark-only proxy
``/work/shared/data/mnist-png70k/mnist_png70k.npz``). The last line is machine-readable::

    mlp_acc=0.98xx mlp_s=NN.N cnn_acc=0.99xx cnn_s=NNN.N

Run:  python benchmarks/bench_mnist.py --data PATH [--threads 1] [--mlp-epochs 18] [--cnn-epochs 12]

On a machine shared with other jobs one BLAS thread per process is usually fastest (idle
threads of a multi-threaded GEMM wait for busy cores); ``--threads 2`` suits an idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import limit_threads

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def load(path: Path) -> dict[str, np.ndarray]:
    """The four arrays from an .npz or from a folder of IDX files (uint8 images, int64 labels)."""
    from nnlearn.datasets import read_idx

    if path.suffix == ".npz":
        with np.load(path) as data:
            arrays = {key: data[key] for key in IDX_NAMES}
    else:
        arrays = {}
        for key, name in IDX_NAMES.items():
            candidates = [path / (name + ".gz"), path / name]
            found = next((c for c in candidates if c.is_file()), None)
            if found is None:
                raise FileNotFoundError(f"--data {path}: neither {candidates[0].name} nor {candidates[1].name} found")
            arrays[key] = read_idx(found)
    for part in ("train", "test"):
        images = arrays[f"{part}_images"]
        arrays[f"{part}_images"] = (images.reshape(len(images), 1, 28, 28) / np.float32(255)).astype(np.float32)
        arrays[f"{part}_labels"] = arrays[f"{part}_labels"].astype(np.int64)
    return arrays


def train(model, x, y, epochs: int, lr: float, seed: int, batch_size: int = 128,
          max_shift: float = 2.0, max_degrees: float = 8.0) -> float:
    """Adam + cosine decay, a fresh augmented copy of x every epoch; returns the seconds taken."""
    from nnlearn.augment import random_shift_rotate
    from nnlearn.losses import SoftmaxCrossEntropy
    from nnlearn.optim import Adam
    from nnlearn.schedules import cosine_decay

    rng = np.random.default_rng(seed)
    steps = epochs * -(-len(x) // batch_size)
    optimizer = Adam(model.parameters(), lr=cosine_decay(lr, total_steps=steps, min_lr=lr / 100))
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        x_epoch = random_shift_rotate(x, rng=rng, max_shift=max_shift, max_degrees=max_degrees)
        model.fit(x_epoch, y, loss=SoftmaxCrossEntropy(), optimizer=optimizer, epochs=1,
                  batch_size=batch_size, rng=rng, verbose=False)
        print(f"  epoch {epoch:2d}: train loss {model.history_['loss'][-1]:.4f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of the 4 IDX files, or an .npz")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--mlp-epochs", type=int, default=18)
    parser.add_argument("--cnn-epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from nnlearn.layers import Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
    from nnlearn.metrics import accuracy
    from nnlearn.model import Sequential

    print(limit_threads(args.threads))
    data = load(args.data)
    x_train, y_train = data["train_images"], data["train_labels"]
    x_test, y_test = data["test_images"], data["test_labels"]
    print(f"data: {args.data}  train {x_train.shape}  test {x_test.shape}")

    mlp = Sequential([Flatten(), Dense(784, 512), ReLU(), Dropout(0.2), Dense(512, 256), ReLU(), Dropout(0.2),
                      Dense(256, 10)], rng=args.seed)
    print(f"MLP 784-512-256-10, {mlp.num_params():,} parameters, {args.mlp_epochs} epochs")
    mlp_s = train(mlp, x_train, y_train, args.mlp_epochs, lr=2e-3, seed=args.seed)
    mlp_acc = accuracy(mlp.predict(x_test), y_test)
    print(f"MLP test accuracy {mlp_acc:.4f} after {mlp_s:.1f} s of training", flush=True)

    cnn = Sequential([
        Conv2D(1, 16, 3, padding=1), ReLU(), MaxPool2D(2),  # (N, 16, 14, 14)
        Conv2D(16, 32, 3, padding=1), ReLU(), MaxPool2D(2),  # (N, 32, 7, 7)
        Flatten(), Dense(32 * 7 * 7, 128), ReLU(), Dropout(0.3), Dense(128, 10),
    ], rng=args.seed)
    print(f"CNN, {cnn.num_params():,} parameters, {args.cnn_epochs} epochs")
    cnn_s = train(cnn, x_train, y_train, args.cnn_epochs, lr=2e-3, seed=args.seed)
    cnn_acc = accuracy(cnn.predict(x_test), y_test)
    print(f"CNN test accuracy {cnn_acc:.4f} after {cnn_s:.1f} s of training")

    print(f"mlp_acc={mlp_acc:.4f} mlp_s={mlp_s:.1f} cnn_acc={cnn_acc:.4f} cnn_s={cnn_s:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
