"""Bench sections that start processes: throughput workers must not inherit the parent's thread pools."""

from __future__ import annotations

from pathlib import Path

from frs.bench.pipeline import throughput
from frs.config import Settings
from frs.pipeline.analyzer import load_analyzer


def test_throughput_runs_after_the_parent_used_opencv_and_onnxruntime(
    open_settings: Settings, testdata: Path
) -> None:
    """Regression: a bench run hung in forked workers once the parent had run OpenCV's DNN engine. Workers are
    spawned now; the hang depended on timing, so this checks that the section works, not that a fork hangs."""
    data = (testdata / "person_b_1.jpg").read_bytes()
    assert len(load_analyzer(open_settings).analyze(data).faces) == 1  # the parent's pools are running now
    result = throughput(data, 1, open_settings)
    assert result["images"] == result["workers"] * 5 and result["images_per_second"] > 0
