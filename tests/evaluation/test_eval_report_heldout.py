"""report.md's operating-point sections render what the check and the methods comparison wrote."""

from __future__ import annotations

from typing import Any

from frs.evaluation.heldout import CheckPlan, check_calibration
from frs.evaluation.report import render_report
from frs.evaluation.report.heldout import CHECK_SCHEMA, METHODS_SCHEMA, check_section, methods_section
from tests.evaluation.test_eval_heldout import _calibrate, _population


def _check() -> dict[str, Any]:
    identities, images = _population()
    plan = CheckPlan(splits=1, draws=2, gallery_sizes=(5, 20, 500), target_fpir=0.05)
    result = check_calibration(identities, images, plan, _calibrate)
    return {"schema": CHECK_SCHEMA, "dataset": "synthetic", "pack": "p", "command": "frs x", **result}


def test_the_check_table_has_one_row_per_photos_and_size_with_the_files_figures() -> None:
    data = _check()
    lines = check_section(data)
    body = [line for line in lines if line.startswith("| 1 |")]
    assert len(body) == 2  # N = 5 and 20; 500 is skipped and said so
    assert any("Skipped (a half cannot hold them): N = 500 with 1" in line for line in lines)
    for line, row in zip(body, data["rows"], strict=True):
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        assert cells[1] == str(row["gallery_size"])
        assert cells[4].endswith(f"({row['fpir']['count']}/{row['fpir']['n']:,})")
        assert cells[5] == f"{row['fpir_over_target']:.2f}x"
        assert cells[8].endswith(f"({row['fnir']['count']}/{row['fnir']['n']:,})")


def test_unknown_schemas_are_said_not_guessed() -> None:
    assert any("frs-calibration-check/1" in line for line in check_section({"schema": "other"}))
    assert any(METHODS_SCHEMA in line for line in methods_section({"schema": "other"}))


def test_the_methods_table_names_each_method_and_the_independence_check() -> None:
    rate = {"rate": 0.01, "count": 10, "n": 1000, "ci95": [0.005, 0.018]}
    data = {
        "schema": METHODS_SCHEMA,
        "dataset": "d",
        "pack": "p",
        "target_fpir": 0.01,
        "rows": [
            {
                "method": method,
                "gallery_size": 100,
                "threshold_mean": 0.42,
                "fpir": rate,
                "fpir_over_target": 1.0,
                "fpir_over_target_per_split": {"median": 1.0, "min": 0.8, "max": 1.2},
                "fnir": rate,
                "oracle_fnir": rate,
                "fnir_gap": 0.0,
            }
            for method in ("each_identity_weighs_one", "look_alike_groups")
        ],
        "independence": [{"gallery_size": 1000, "threshold": 0.47, "exact_fpir": 0.0099, "ratio": 0.99}],
    }
    text = "\n".join(methods_section(data))
    assert "every pair of people, each weighing one (**FRS**)" in text
    assert "look-alike groups of ~50 faces (FRS before)" in text
    assert "| 1,000 | 0.470 | 0.990 % | 0.99x |" in text


def test_the_report_places_the_sections_before_the_eval_sections() -> None:
    text = render_report([], None, [], checks=[_check()])
    assert text.index("## Operating points on people the calibration never saw") < text.index("## Accuracy")
