"""Summaries of repeated timings: min / median / p95 / max in milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np


def summarize(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {
        "runs": len(ms),
        "min": round(float(ms.min()), 1),
        "p50": round(float(np.median(ms)), 1),
        "p95": round(float(np.percentile(ms, 95)), 1),
        "max": round(float(ms.max()), 1),
    }


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
