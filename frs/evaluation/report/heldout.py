"""The operating-point sections of report.md: ``frs calibrate --check`` (people the calibration never saw)
and ``scripts/openset_methods.py`` (the calibration populations compared)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frs.evaluation.report.format import (
    NOT_AVAILABLE,
    as_dict,
    as_list,
    count,
    number,
    rate,
    table,
    target,
    threshold,
    unsupported,
)

CHECK_SCHEMA = "frs-calibration-check/1"
METHODS_SCHEMA = "frs-openset-methods/1"
_METHOD_NAMES = {
    "each_identity_weighs_one": "every pair of people, each weighing one (**FRS**)",
    "every_pair_of_faces": "every pair of faces",
    "look_alike_groups": "look-alike groups of ~50 faces (FRS before)",
    "per_probe_maximum": "per-probe maximum over random galleries",
}


def _ratio(value: Any) -> str:
    return f"{value:.2f}x" if isinstance(value, int | float) else NOT_AVAILABLE


def _gap(value: Any) -> str:
    return f"{100 * value:+.2f}" if isinstance(value, int | float) else NOT_AVAILABLE


def _spread(record: Any) -> str:
    data = as_dict(record)
    if not data:
        return NOT_AVAILABLE
    return f"{_ratio(data.get('median'))} ({_ratio(data.get('min'))} to {_ratio(data.get('max'))})"


def check_section(data: Mapping[str, Any]) -> list[str]:
    """``frs calibrate DATASET --check --out FILE``'s result as the held-out table."""
    title = f"## Operating points on people the calibration never saw: `{data.get('dataset', '?')}`"
    if data.get("schema") != CHECK_SCHEMA:
        return unsupported(title, "calibration check", data.get("schema"), CHECK_SCHEMA)
    goal = target(data.get("target_fpir"))
    lines = [
        title,
        "",
        f"- Measured {data.get('measured_at', '?')}: `{data.get('command', '?')}`",
        "",
        f"Pack `{data.get('pack')}`, {count(data.get('people'))} people, {count(data.get('photos'))} photos "
        f"({count(data.get('no_vector'))} without a face). {number(data.get('splits'))} random halvings of "
        "the people (those with several photos and those with one halved separately); each half calibrates "
        f"and the other is searched, {number(data.get('draws_per_split_direction'))} draws per gallery size "
        f"and direction, mated searches capped at {number(data.get('mated_cap'))} a person. Each search is "
        f"decided at the threshold its own half's calibration gives for target FPIR {goal} and the faces "
        "enrolled (people x photos). The oracle is the pooled searches at the one threshold giving exactly "
        f"FPIR {goal}; FNIR - oracle is in points. The per-split column is the spread of FPIR / target over "
        "the split-directions: how much one population of people differs from another.",
        "",
    ]
    rows = []
    for row in map(as_dict, as_list(data.get("rows"))):
        searches, distinct = as_dict(row.get("searches")), as_dict(row.get("distinct_photos"))
        band = as_dict(row.get("threshold"))
        oracle = as_dict(row.get("oracle_at_target"))
        extrapolated = row.get("extrapolated_draws")
        rows.append(
            [
                count(row.get("photos_per_person")),
                count(row.get("gallery_size")),
                f"{threshold(band.get('mean'))} ({threshold(band.get('min'))}-{threshold(band.get('max'))})"
                + (
                    f"; extrapolated in {count(extrapolated)}/{count(row.get('draws'))}"
                    if extrapolated
                    else ""
                ),
                f"{count(searches.get('nonmated'))} ({count(distinct.get('nonmated'))})",
                rate(row.get("fpir")),
                _ratio(row.get("fpir_over_target")),
                _spread(row.get("fpir_over_target_per_split")),
                f"{count(searches.get('mated'))} ({count(distinct.get('mated'))})",
                rate(row.get("fnir")),
                rate(oracle.get("fnir")) if oracle else "not measurable",
                _gap(row.get("fnir_gap")),
            ]
        )
    headers = [
        "photos per person",
        "N people",
        "threshold (range)",
        "stranger searches (distinct photos)",
        "FPIR",
        "FPIR / target",
        "per split: median (range)",
        "mated searches (distinct photos)",
        "FNIR",
        "oracle FNIR",
        "FNIR - oracle",
    ]
    lines += table(headers, rows)
    skipped = as_list(data.get("skipped"))
    if skipped:
        shown = ", ".join(
            f"N = {count(as_dict(s).get('gallery_size'))} with {count(as_dict(s).get('photos_per_person'))}"
            for s in skipped
        )
        lines += [f"Skipped (a half cannot hold them): {shown}.", ""]
    return lines


def methods_section(data: Mapping[str, Any]) -> list[str]:
    """``scripts/openset_methods.py``'s comparison of calibration populations, and its independence check."""
    title = f"## Calibration populations compared: `{data.get('dataset', '?')}`"
    if data.get("schema") != METHODS_SCHEMA:
        return unsupported(title, "methods comparison", data.get("schema"), METHODS_SCHEMA)
    goal = target(data.get("target_fpir"))
    lines = [
        title,
        "",
        f"- `{data.get('command', '?')}` ({number(data.get('duration_s'))} s)",
        "",
        f"Pack `{data.get('pack')}`; the same held-out protocol as above ({number(data.get('splits'))} "
        f"halvings, {number(data.get('draws'))} draws), target FPIR {goal}, one photo per person. Each "
        "method turns the calibration half into a threshold per gallery size.",
        "",
    ]
    rows = []
    for row in map(as_dict, as_list(data.get("rows"))):
        rows.append(
            [
                count(row.get("gallery_size")),
                _METHOD_NAMES.get(str(row.get("method")), str(row.get("method"))),
                threshold(row.get("threshold_mean")),
                rate(row.get("fpir")),
                _ratio(row.get("fpir_over_target")),
                _spread(row.get("fpir_over_target_per_split")),
                rate(row.get("fnir")),
                rate(row.get("oracle_fnir")),
                _gap(row.get("fnir_gap")),
            ]
        )
    headers = [
        "N",
        "method",
        "mean threshold",
        "FPIR",
        "FPIR / target",
        "per split: median (range)",
        "FNIR",
        "oracle FNIR",
        "FNIR - oracle",
    ]
    lines += table(headers, rows)
    checks = [as_dict(c) for c in as_list(data.get("independence"))]
    if checks:
        lines += [
            "Independence of one probe's comparisons, on all the people: the exact expected FPIR over random "
            "galleries (each person enrolled with probability N / people) at the thresholds of "
            f"`1 - (1 - FMR) ** N` for FPIR {goal}:",
            "",
            *table(
                ["N", "threshold", "exact expected FPIR", "/ formula"],
                [
                    [
                        count(c.get("gallery_size")),
                        threshold(c.get("threshold")),
                        f"{100 * c['exact_fpir']:.3f} %" if isinstance(c.get("exact_fpir"), float) else "n/a",
                        _ratio(c.get("ratio")),
                    ]
                    for c in checks
                ],
            ),
        ]
    return lines
