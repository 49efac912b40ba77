"""Helpers shared by the benchmark scripts: threads, the BLAS report, paired ratios, torch epochs.

Comparing timings on a shared machine: run the contestants in interleaved
rounds (one run of each per round), and report medians of per-round ratios.
Whole rounds speed up or slow down together when the machine's load changes,
and pairing cancels that.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time


def limit_threads(threads: int) -> str:
    """Limit every BLAS/OpenMP pool of this process to ``threads``; return a one-line BLAS report.

    The report names the library, version, kernel ("architecture": which CPU code path
    OpenBLAS chose, e.g. SkylakeX or Haswell) and thread count of every pool.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(threads)
    pools = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} threads)"
             for i in threadpool_info()]
    return f"threads={threads}  BLAS: {'; '.join(pools)}"


def import_torch(threads: int):
    """PyTorch with ``threads`` intra-op threads, or None if it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the per-round ratios n_k / d_k."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def print_times(times: dict[str, list[float]], unit: str = "s/epoch") -> dict[str, float]:
    """Print the median and every run of each contestant; return the medians."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        runs = ", ".join(f"{v:.3f}" for v in values)
        print(f"{name:8s} median {medians[name]:.3f} {unit}   runs: {runs}")
    return medians


def torch_epoch(torch, model, x, y, batch: int, seed: int) -> float:
    """Seconds for one epoch of idiomatic PyTorch training: shuffled batches, cross-entropy, fused Adam."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    start = time.perf_counter()
    perm = torch.randperm(len(x))
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start
