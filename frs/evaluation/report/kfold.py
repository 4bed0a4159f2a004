"""The LFW-style k-fold accuracy table of report.md: for a pairs run whose CSV has a ``fold`` column
(``scripts/make_fold_pairs.py``), every system's accuracy at the threshold chosen on the other folds."""

from __future__ import annotations

from typing import Any

from frs.evaluation.report.format import as_dict, as_list, count, is_number, table, threshold

KFOLD_TEXT = (
    "LFW's View 2 protocol on these pairs: folds disjoint by person; for each fold the threshold that "
    "maximises accuracy on the other folds is applied to it. Mean ± standard deviation over the folds; a "
    "pair with a photo that gave no face counts as rejected."
)


def _accuracy(value: Any) -> str:
    return f"{100 * value:.2f}" if is_number(value) else "n/a"


def kfold_section(systems: list[dict[str, Any]]) -> list[str]:
    """The k-fold table, or nothing when no system has k-fold figures."""
    rows = []
    for system in systems:
        data = as_dict(as_dict(system.get("verification")).get("kfold_accuracy"))
        if not data:
            continue
        accuracies = [a for a in as_list(data.get("accuracies")) if is_number(a)]
        thresholds = [t for t in as_list(data.get("thresholds")) if is_number(t)]
        pairs = [p for p in as_list(data.get("pairs_per_fold")) if is_number(p)]
        rows.append(
            [
                system.get("label"),
                count(data.get("folds")),
                count(sum(pairs)) if pairs else "n/a",
                f"{_accuracy(data.get('mean'))} % ± {_accuracy(data.get('std'))}",
                f"{_accuracy(min(accuracies))} to {_accuracy(max(accuracies))} %" if accuracies else "n/a",
                f"{threshold(min(thresholds))} to {threshold(max(thresholds))}" if thresholds else "n/a",
                count(data.get("failed_pairs")),
            ]
        )
    if not rows:
        return []
    headers = [
        "system",
        "folds",
        "pairs",
        "accuracy (mean ± std)",
        "fold range",
        "thresholds chosen",
        "pairs without a face",
    ]
    return ["#### k-fold accuracy", "", KFOLD_TEXT, "", *table(headers, rows)]
