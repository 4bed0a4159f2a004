"""Timing summaries: the arithmetic of the statistics, the ratio of medians, interleaved runs."""

from __future__ import annotations

import pytest

from frs.bench.stats import STAT_KEYS, ratio, summarize, time_calls, time_interleaved


def test_summary_of_known_timings_in_milliseconds() -> None:
    # 1, 2, 3, 4, 10 ms: median 3; p95 by linear interpolation = 4 + 0.8 * (10 - 4) = 8.8; mean 20 / 5 = 4.
    summary = summarize([0.001, 0.002, 0.003, 0.004, 0.010])
    assert summary == {"p50_ms": 3.0, "p95_ms": 8.8, "mean_ms": 4.0, "min_ms": 1.0, "max_ms": 10.0, "runs": 5}
    assert list(summary) == [*STAT_KEYS, "runs"]


def test_summary_rounds_to_the_digits_asked_for() -> None:
    assert summarize([0.0000123456], digits=3)["p50_ms"] == 0.012
    assert summarize([0.0123456])["mean_ms"] == 12.3


def test_summary_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no timings"):
        summarize([])


def test_ratio_is_of_the_medians() -> None:
    slow = summarize([0.010, 0.020, 0.900])  # p50 20 ms, mean 310 ms
    fast = summarize([0.004, 0.005, 0.006])  # p50 5 ms
    assert ratio(slow, fast) == 4.0
    assert ratio(fast, slow) == 0.25


def test_time_calls_runs_warmup_then_the_timed_runs() -> None:
    calls: list[int] = []
    result = time_calls(lambda: calls.append(1), runs=4, warmup=3)
    assert len(calls) == 7 and result["runs"] == 4


def test_contenders_run_in_turns() -> None:
    calls: list[str] = []
    result = time_interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, runs=3, warmup=1
    )
    assert calls == ["a", "b"] * 4
    assert set(result) == {"a", "b"} and result["a"]["runs"] == 3
    assert result["a"]["min_ms"] <= result["a"]["p50_ms"] <= result["a"]["max_ms"]
