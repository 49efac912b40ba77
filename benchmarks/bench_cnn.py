"""Benchmark: one training epoch of LeNet-5 on MNIST-shaped data, and naive loops vs Conv2D.

Part 1. LeNet-5 in its modern form (conv 6@5x5 padding 2, ReLU, max pool 2, conv 16@5x5,
ReLU, max pool 2, dense 400-120-84-10, softmax cross-entropy, Adam, batch 128, float32)
trains for one epoch on 60,000 synthetic 1x28x28 samples:

* ``nnlearn`` — Sequential.fit, exactly as a learner would call it;
* ``torch``   — PyTorch CPU at its fastest (``Adam(fused=True)``), if installed.

Both use the same number of threads; runs are interleaved (one round = one run of each)
and the ratio is the median of the per-round ratios (see ``_common``). The peak resident
memory is that of this process after its first nnlearn epoch, before PyTorch is imported
(data included: 188 MB of float32 images).

Part 2. The textbook 4-nested-loop convolution (``nnlearn.layers.conv.conv2d_naive``)
against ``Conv2D.forward`` on one batch of the first layer (128 x 1 x 28 x 28, 6 filters
5x5, padding 2). The loops take seconds per batch, so they run on a few samples and the
time is scaled to the batch.

Wall-clock time is what the ratio compares; the process's CPU time is printed too,
because on a busy machine it varies far less (with one thread it is the work done).

The last line is machine-readable::

    ratio_vs_torch=X.XX speedup_vs_naive=Y peak_mb=Z

Run:  python benchmarks/bench_cnn.py [--repeats 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
from _common import import_torch, limit_threads, paired_ratio, peak_rss_mb, print_times, torch_epoch

N_SAMPLES, BATCH, N_CLASSES = 60_000, 128, 10


def make_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: (N, 1, 28, 28) pixels in [0, 1), labels 0-9."""
    x = rng.random((N_SAMPLES, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, N_SAMPLES)
    return x, y


def lenet5(seed: int):
    from nnlearn.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
    from nnlearn.model import Sequential

    return Sequential([
        Conv2D(1, 6, 5, padding=2), ReLU(), MaxPool2D(2),
        Conv2D(6, 16, 5), ReLU(), MaxPool2D(2),
        Flatten(), Dense(400, 120), ReLU(), Dense(120, 84), ReLU(), Dense(84, N_CLASSES),
    ], rng=seed)


def epoch_nnlearn(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """One epoch of Sequential.fit, as a learner would write it."""
    from nnlearn.losses import SoftmaxCrossEntropy
    from nnlearn.optim import Adam

    model = lenet5(seed)
    optimizer = Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    model.fit(x, y, loss=SoftmaxCrossEntropy(), optimizer=optimizer, epochs=1, batch_size=BATCH,
              rng=seed, verbose=False)
    return time.perf_counter() - start


def epoch_torch(torch, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """One epoch of the same network in idiomatic PyTorch with the fused Adam."""
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, N_CLASSES))
    return torch_epoch(torch, model, x, y, BATCH, seed)


def naive_vs_conv2d(x: np.ndarray, naive_samples: int = 4, repeats: int = 3) -> tuple[float, float]:
    """Seconds per batch of BATCH samples: (4 nested loops, scaled from naive_samples; Conv2D.forward)."""
    from nnlearn.layers import Conv2D
    from nnlearn.layers.conv import conv2d_naive

    layer = Conv2D(1, 6, 5, padding=2, rng=0)
    batch = x[:BATCH]
    w, b = layer.params["w"], layer.params["b"]
    np.testing.assert_allclose(conv2d_naive(batch[:2], w, b, padding=2), layer.forward(batch[:2]),
                               rtol=1e-4, atol=1e-5)
    naive, fast = math.inf, math.inf
    for _ in range(repeats):  # best of `repeats`: the least disturbed run
        start = time.perf_counter()
        conv2d_naive(batch[:naive_samples], w, b, padding=2)
        naive = min(naive, (time.perf_counter() - start) * BATCH / naive_samples)
    for _ in range(10 * repeats):
        start = time.perf_counter()
        layer.forward(batch)
        fast = min(fast, time.perf_counter() - start)
    return naive, fast


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (median of paired ratios)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS/torch threads")
    args = parser.parse_args(argv)

    print(limit_threads(args.threads))
    rng = np.random.default_rng(0)
    x, y = make_data(rng)
    first = epoch_nnlearn(x, y, seed=100)  # warm-up, and the memory figure before torch is loaded
    peak_mb = peak_rss_mb()
    print(f"nnlearn first epoch {first:.2f} s; peak resident memory {peak_mb:.0f} MB (data included)")

    torch = import_torch(args.threads)
    print(f"torch: {torch.__version__ if torch else 'not installed'}")
    times: dict[str, list[float]] = {"nnlearn": []}
    cpu: dict[str, list[float]] = {"nnlearn": []}
    if torch is not None:
        epoch_torch(torch, x[:BATCH * 20], y[:BATCH * 20], seed=100)  # warm-up
        times["torch"], cpu["torch"] = [], []
    for repeat in range(args.repeats):
        contestants = [("nnlearn", lambda: epoch_nnlearn(x, y, seed=repeat))]  # noqa: B023
        if torch is not None:
            contestants.append(("torch", lambda: epoch_torch(torch, x, y, seed=repeat)))  # noqa: B023
        for name, run in contestants:
            start = time.process_time()
            times[name].append(run())
            cpu[name].append(time.process_time() - start)
    print_times(times)
    print("CPU time of the process (less sensitive to other processes; with several threads it")
    print("also counts their waiting):")
    print_times(cpu, unit="CPU s/epoch")
    ratio = paired_ratio(times["nnlearn"], times["torch"]) if torch is not None else float("nan")
    if torch is not None:
        print(f"CPU-time ratio nnlearn/torch: {paired_ratio(cpu['nnlearn'], cpu['torch']):.2f}")

    naive, fast = naive_vs_conv2d(x)
    speedup = naive / fast
    print(f"first layer, one batch {BATCH}x1x28x28 -> 6x28x28: 4 nested loops {naive:.2f} s (scaled), "
          f"Conv2D.forward {fast * 1e3:.2f} ms")
    print(f"ratio_vs_torch={ratio:.2f} speedup_vs_naive={speedup:.0f} peak_mb={peak_mb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
