"""Interleaved timing: every contender runs in turns, warm-up included, and gets its own summary."""

from __future__ import annotations

from frs.bench.stats import time_interleaved


def test_contenders_run_in_turns() -> None:
    calls: list[str] = []
    result = time_interleaved(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, runs=3, warmup=1
    )
    assert calls == ["a", "b"] * 4
    assert set(result) == {"a", "b"} and result["a"]["runs"] == 3
    assert result["a"]["min"] <= result["a"]["p50"] <= result["a"]["max"]
