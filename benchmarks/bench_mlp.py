"""Benchmark: one training epoch of an MLP 784-256-128-10 on MNIST-shaped data.

Three contestants train the same network (ReLU, softmax cross-entropy, Adam,
batch 128, float32) for one epoch on 60,000 synthetic samples:

* ``nnlearn``  — Sequential.fit, exactly as a learner would call it;
* ``floor``    — bare NumPy doing only the matrix products an epoch needs
                 (3 forward, 3 weight-gradient and 2 input-gradient products per
                 batch): no library can be faster than this on the same BLAS;
* ``torch``    — PyTorch CPU at its fastest (``Adam(fused=True)``), if installed.

All use the same number of threads; runs are interleaved (one round = one run of
each) and medians of ``--repeats`` rounds are reported, because a shared machine
swings +-30% run to run. The ratios are medians of per-round ratios, so a round
in which the whole machine was slow compares like with like.
The last line is machine-readable::

    ratio_vs_floor=X.XX ratio_vs_torch=Y.YY

Run:  python benchmarks/bench_mlp.py [--repeats 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _common import import_torch, limit_threads, paired_ratio, print_times, torch_epoch

N_SAMPLES, N_IN, N_H1, N_H2, N_OUT, BATCH = 60_000, 784, 256, 128, 10, 128


def make_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: pixels in [0, 1), labels 0-9."""
    x = rng.random((N_SAMPLES, N_IN), dtype=np.float32)
    y = rng.integers(0, N_OUT, N_SAMPLES)
    return x, y


def epoch_floor(x: np.ndarray, rng: np.random.Generator) -> float:
    """Only the 8 matrix products per batch, into preallocated buffers."""
    w1 = rng.standard_normal((N_IN, N_H1), dtype=np.float32) * 0.05
    w2 = rng.standard_normal((N_H1, N_H2), dtype=np.float32) * 0.05
    w3 = rng.standard_normal((N_H2, N_OUT), dtype=np.float32) * 0.05
    h1, h2, out = (np.empty((BATCH, n), np.float32) for n in (N_H1, N_H2, N_OUT))
    dh1, dh2 = np.empty_like(h1), np.empty_like(h2)
    dw1, dw2, dw3 = np.empty_like(w1), np.empty_like(w2), np.empty_like(w3)
    start = time.perf_counter()
    for i in range(0, N_SAMPLES - BATCH + 1, BATCH):
        xb = x[i:i + BATCH]  # (B, 784)
        np.matmul(xb, w1, out=h1)  # (B, 784) @ (784, 256)
        np.matmul(h1, w2, out=h2)  # (B, 256) @ (256, 128)
        np.matmul(h2, w3, out=out)  # (B, 128) @ (128, 10)
        np.matmul(h2.T, out, out=dw3)  # (128, B) @ (B, 10)
        np.matmul(out, w3.T, out=dh2)  # (B, 10) @ (10, 128)
        np.matmul(h1.T, dh2, out=dw2)  # (256, B) @ (B, 128)
        np.matmul(dh2, w2.T, out=dh1)  # (B, 128) @ (128, 256)
        np.matmul(xb.T, dh1, out=dw1)  # (784, B) @ (B, 256)
    return time.perf_counter() - start


def epoch_nnlearn(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """One epoch of Sequential.fit, as a learner would write it."""
    from nnlearn.layers import Dense, ReLU
    from nnlearn.losses import SoftmaxCrossEntropy
    from nnlearn.model import Sequential
    from nnlearn.optim import Adam

    model = Sequential([Dense(N_IN, N_H1), ReLU(), Dense(N_H1, N_H2), ReLU(),
                        Dense(N_H2, N_OUT)], rng=seed)
    optimizer = Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    model.fit(x, y, loss=SoftmaxCrossEntropy(), optimizer=optimizer, epochs=1,
              batch_size=BATCH, rng=seed, verbose=False)
    return time.perf_counter() - start


def epoch_torch(torch, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """One epoch of idiomatic PyTorch with the fused Adam."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(N_IN, N_H1), torch.nn.ReLU(), torch.nn.Linear(N_H1, N_H2),
        torch.nn.ReLU(), torch.nn.Linear(N_H2, N_OUT))
    return torch_epoch(torch, model, x, y, BATCH, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved runs (median)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS/torch threads")
    args = parser.parse_args(argv)

    torch = import_torch(args.threads)
    print(limit_threads(args.threads))
    print(f"torch: {torch.__version__ if torch else 'not installed'}")

    rng = np.random.default_rng(0)
    x, y = make_data(rng)
    times: dict[str, list[float]] = {"floor": [], "nnlearn": []}
    if torch is not None:
        times["torch"] = []
    for repeat in range(args.repeats):
        times["floor"].append(epoch_floor(x, rng))
        times["nnlearn"].append(epoch_nnlearn(x, y, seed=repeat))
        if torch is not None:
            times["torch"].append(epoch_torch(torch, x, y, seed=repeat))
    print_times(times)
    # The ratios pair each nnlearn run with the floor / torch run of the same round: on a
    # shared machine whole rounds speed up or slow down together, and pairing cancels that.
    ratio_floor = paired_ratio(times["nnlearn"], times["floor"])
    ratio_torch = paired_ratio(times["nnlearn"], times["torch"]) if torch is not None else float("nan")
    print(f"ratio_vs_floor={ratio_floor:.2f} ratio_vs_torch={ratio_torch:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
