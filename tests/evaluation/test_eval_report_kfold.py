"""The k-fold table of report.md shows what an eval file's ``kfold_accuracy`` holds; none without it."""

from __future__ import annotations

from typing import Any

from frs.evaluation.report.kfold import kfold_section


def _system(label: str, kfold: dict[str, Any] | None) -> dict[str, Any]:
    return {"label": label, "verification": {"kfold_accuracy": kfold}}


def test_kfold_rows_carry_mean_std_range_and_samples() -> None:
    kfold = {
        "folds": 2,
        "mean": 0.9875,
        "std": 0.0025,
        "accuracies": [0.985, 0.99],
        "thresholds": [0.301, 0.312],
        "pairs_per_fold": [600, 600],
        "failed_pairs": 3,
    }
    lines = kfold_section([_system("FRS, pack open", kfold), _system("peer", None)])
    assert lines[0] == "#### k-fold accuracy"
    rows = [line for line in lines if line.startswith("| FRS")]
    assert rows == ["| FRS, pack open | 2 | 1,200 | 98.75 % ± 0.25 | 98.50 to 99.00 % | 0.301 to 0.312 | 3 |"]


def test_no_kfold_figures_no_table() -> None:
    assert kfold_section([_system("FRS, pack open", None), {"label": "x"}]) == []
