"""Summaries of repeated timings, in milliseconds: ``p50_ms``, ``p95_ms``, ``mean_ms``, ``min_ms``, ``max_ms``
and the number of ``runs`` (the same names everywhere ``frs bench`` reports a timing)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

#: The keys of every timing summary, in the order reports show them.
STAT_KEYS = ("p50_ms", "p95_ms", "mean_ms", "min_ms", "max_ms")


def summarize(seconds: Sequence[float], digits: int = 1) -> dict[str, float]:
    """Median, 95th percentile (numpy's linear interpolation), mean, min and max of ``seconds``, in ms
    rounded to ``digits`` decimals, plus ``runs``."""
    if not len(seconds):
        raise ValueError("no timings to summarise")
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {
        "p50_ms": round(float(np.median(ms)), digits),
        "p95_ms": round(float(np.percentile(ms, 95)), digits),
        "mean_ms": round(float(ms.mean()), digits),
        "min_ms": round(float(ms.min()), digits),
        "max_ms": round(float(ms.max()), digits),
        "runs": len(ms),
    }


def ratio(numerator: Mapping[str, float], denominator: Mapping[str, float]) -> float:
    """The ratio of two summaries' medians (how many times slower ``numerator`` is), to 3 decimals."""
    return round(numerator["p50_ms"] / denominator["p50_ms"], 3)


def time_calls(fn: Callable[[], object], runs: int, warmup: int = 2) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return summarize(samples)


def time_interleaved(
    fns: Mapping[str, Callable[[], object]], runs: int, warmup: int = 2
) -> dict[str, dict[str, float]]:
    """Time several functions in turns (a, b, c, a, b, c, ...): on a shared, noisy machine a burst of load
    then hits every contender alike, so their ratio is steadier than with one block of runs after another."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - started)
    return {name: summarize(values) for name, values in samples.items()}
