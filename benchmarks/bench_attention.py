"""Benchmark: forward + backward of one pre-norm Transformer encoder block, nnlearn vs PyTorch.

The block (LayerNorm -> 4-head self-attention -> residual -> LayerNorm -> FFN 512
-> residual) runs on x of shape (32, 64, 128) in float32:

* ``nnlearn`` — ``EncoderBlock(128, 4, 512)``: forward, then backward of a fixed dout;
* ``torch``   — ``torch.nn.TransformerEncoderLayer(128, 4, 512, dropout=0,
  batch_first=True, norm_first=True)`` with nnlearn's weights copied
  (``EncoderBlock.torch_state()``), forward and ``out.backward(dout)``.

Both use the same number of threads. Runs are interleaved (one round = ``--iters``
passes of each) and the ratio is the median of the per-round ratios, so a
round in which the shared machine was slow compares like with like. The last
line is machine-readable::

    ratio_vs_torch=X.XX

Run:  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_attention.py
      [--repeats 7] [--iters 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

N, T, D_MODEL, HEADS, D_FF = 32, 64, 128, 4, 512


def time_nnlearn(block, x: np.ndarray, dout: np.ndarray, iters: int) -> float:
    """Seconds per forward + backward of the nnlearn block."""
    start = time.perf_counter()
    for _ in range(iters):
        block.forward(x)
        block.backward(dout)
    return (time.perf_counter() - start) / iters


def time_torch(layer, x: np.ndarray, dout: np.ndarray, iters: int) -> float:
    """Seconds per forward + backward of the PyTorch layer (input gradient included)."""
    import torch

    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
    start = time.perf_counter()
    for _ in range(iters):
        xg = xt.detach().requires_grad_(True)
        for p in layer.parameters():
            p.grad = None
        layer(xg).backward(dt)
    return (time.perf_counter() - start) / iters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (median)")
    parser.add_argument("--iters", type=int, default=10, help="passes per round and contestant")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS/torch threads")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
            for i in threadpool_info()]
    print(f"threads={args.threads}  BLAS: {'; '.join(blas)}")
    print(f"torch: {torch.__version__}  shape: x ({N}, {T}, {D_MODEL}), {HEADS} heads, FFN {D_FF}")

    from nnlearn.layers import EncoderBlock

    rng = np.random.default_rng(0)
    block = EncoderBlock(D_MODEL, HEADS, D_FF, rng=0)
    layer = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True,
                                             norm_first=True)
    layer.load_state_dict({k: torch.from_numpy(v) for k, v in block.torch_state().items()})
    x = rng.standard_normal((N, T, D_MODEL), dtype=np.float32)
    dout = rng.standard_normal((N, T, D_MODEL), dtype=np.float32)
    out_t = layer(torch.from_numpy(x)).detach().numpy()
    error = float(np.max(np.abs(block.forward(x) - out_t)))
    print(f"max |nnlearn - torch| of the output: {error:.1e}")

    time_nnlearn(block, x, dout, 2)  # warm up both
    time_torch(layer, x, dout, 2)
    times: dict[str, list[float]] = {"nnlearn": [], "torch": []}
    for _ in range(args.repeats):
        times["nnlearn"].append(time_nnlearn(block, x, dout, args.iters))
        times["torch"].append(time_torch(layer, x, dout, args.iters))
    for name, values in times.items():
        spread = ", ".join(f"{1e3 * v:.1f}" for v in values)
        print(f"{name:8s} median {1e3 * statistics.median(values):.1f} ms/pass   rounds: {spread}")
    ratio = statistics.median(n / t for n, t in zip(times["nnlearn"], times["torch"], strict=True))
    print(f"ratio_vs_torch={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
