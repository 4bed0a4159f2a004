"""`frs bench` bookkeeping: the speed aims read from a result, sections that can be left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from frs.bench.run import AIMS, GROUP, ONE_FACE, aims, run_bench
from frs.config import Settings


def test_aims_report_each_measured_figure_and_whether_it_met_its_target() -> None:
    result = {
        "detector": {ONE_FACE: {"speedup_vs_scrfd_2.5g": 3.4}},
        "peers": {
            ONE_FACE: {"ratio_vs_faceanalysis": 0.55, "ratio_vs_face_recognition": 0.15},
            GROUP: {"ratio_vs_faceanalysis": 0.79},
        },
        "cold_start": {"process_start_to_first_result": {"p50": 401.0}},
    }
    rows = {row["aim"]: row for row in aims(result)}
    assert len(rows) == len(AIMS)
    assert [rows[name]["met"] for name, *_ in AIMS] == [True, False, True, True, False]
    assert rows[AIMS[1][0]]["measured"] == 0.55


def test_aims_leave_out_sections_that_did_not_run() -> None:
    assert [row["aim"] for row in aims({"detector": {ONE_FACE: {"speedup_vs_scrfd_2.5g": 2.0}}})] == [
        AIMS[0][0]
    ]


def test_unknown_section_to_skip_is_refused(settings: Settings, testdata: Path) -> None:
    with pytest.raises(ValueError, match="unknown bench sections"):
        run_bench(settings, testdata, quick=True, skip=("coldstart",))
