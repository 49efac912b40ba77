"""Benchmark: forward + backward of an LSTM (and a GRU) layer, nnlearn vs torch.nn.LSTM/GRU.

Batch 64, T = 50 steps, 32 input features, 128 hidden units, float32,
``return_sequences=True`` with a random upstream gradient dL/d(out) for every step,
gradients of every weight and of x. Both libraries get the same thread count;
the runs are interleaved (one round = ``--iters`` fwd+bwd passes of each
contestant) and the ratios are medians of per-round ratios, as in bench_mlp.py,
because a shared machine swings +-30% from round to round. The last line is
machine-readable::

    ratio_vs_torch=X.XX gru_ratio_vs_torch=Y.YY

Run:  python benchmarks/bench_rnn.py [--repeats 7] [--iters 20] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

N, T, D, H = 64, 50, 32, 128


def time_nnlearn(cell: str, x: np.ndarray, dout: np.ndarray, iters: int) -> float:
    """Seconds per forward + backward of nnlearn's layer."""
    from nnlearn.layers import GRU, LSTM

    layer = {"lstm": LSTM, "gru": GRU}[cell](D, H, rng=0)
    layer.forward(x)  # warm-up
    layer.backward(dout)
    start = time.perf_counter()
    for _ in range(iters):
        layer.forward(x)
        layer.backward(dout)
    return (time.perf_counter() - start) / iters


def time_torch(cell: str, x: np.ndarray, dout: np.ndarray, iters: int) -> float:
    """Seconds per forward + backward of torch.nn.LSTM / GRU (batch_first, CPU)."""
    import torch

    torch.manual_seed(0)
    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D, H, batch_first=True)
    xt, dt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

    def once():
        module.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = module(xt)
        out.backward(dt)

    once()  # warm-up
    start = time.perf_counter()
    for _ in range(iters):
        once()
    return (time.perf_counter() - start) / iters


def setup_threads(threads: int):
    """Limit BLAS (and torch) to ``threads``; print which BLAS kernel runs. Returns torch or None."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
            for i in threadpool_info()]
    print(f"threads={threads}  BLAS: {'; '.join(blas)}")
    print(f"torch: {torch.__version__ if torch else 'not installed'}")
    return torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--iters", type=int, default=20, help="fwd+bwd passes per round")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS/torch threads")
    args = parser.parse_args(argv)
    torch = setup_threads(args.threads)
    print(f"shape: batch {N}, T {T}, input {D}, hidden {H}, float32, fwd + bwd (dx and all weights)")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    dout = rng.standard_normal((N, T, H), dtype=np.float32)
    ratios = {}
    for cell in ("lstm", "gru"):
        times: dict[str, list[float]] = {"nnlearn": [], "torch": []}
        for _ in range(args.repeats):
            times["nnlearn"].append(time_nnlearn(cell, x, dout, args.iters))
            if torch is not None:
                times["torch"].append(time_torch(cell, x, dout, args.iters))
        for name, values in times.items():
            if values:
                spread = ", ".join(f"{1e3 * v:.1f}" for v in values)
                print(f"{cell} {name:8s} median {1e3 * statistics.median(values):6.1f} ms   runs: {spread}")
        ratios[cell] = float("nan")
        if torch is not None:
            ratios[cell] = statistics.median(n / t for n, t in zip(times["nnlearn"], times["torch"], strict=True))
    print(f"ratio_vs_torch={ratios['lstm']:.2f} gru_ratio_vs_torch={ratios['gru']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
