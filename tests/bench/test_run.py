"""`frs bench` bookkeeping: the aims read from a result, and the shape of a real `--quick` run.

The quick run is real (the CLI on the pinned photos, shared with the report tests); its timings are noise and
nothing here asserts a speed. What is asserted: every timing has the same summary keys, the ratios are the
ratios of the medians the file holds, the aims point at figures that exist, and the file says when, where and
how it was measured.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from frs.bench import SECTIONS
from frs.bench.run import AIMS, GROUP, ONE_FACE, SCHEMA, Aim, aims, run_bench, summary_rows
from frs.bench.stats import STAT_KEYS
from frs.config import Settings
from tests.support.measurements import load, quick_bench


@pytest.fixture(scope="module")
def bench() -> dict[str, Any]:
    return load(quick_bench())


def _timings(value: Any) -> list[dict[str, Any]]:
    """Every timing summary anywhere in a result (a dict holding p50_ms)."""
    if isinstance(value, dict):
        found = [value] if "p50_ms" in value else []
        return found + [t for item in value.values() for t in _timings(item)]
    if isinstance(value, list):
        return [t for item in value for t in _timings(item)]
    return []


def test_aims_compare_each_way() -> None:
    at_least = Aim("a", ("x",), ">=", 3.0, "x")
    at_most = Aim("b", ("y",), "<=", 400.0, "ms")
    assert at_least.met(3.0) and at_least.met(3.1) and not at_least.met(2.99)
    assert at_most.met(400.0) and not at_most.met(400.5)


def test_aims_report_each_measured_figure_with_its_target() -> None:
    result = {
        "detector": {"photos": {ONE_FACE: {"speedup_vs_scrfd_2.5g": 3.4}}},
        "peers": {
            "photos": {
                ONE_FACE: {"ratio_vs_faceanalysis": 0.55, "ratio_vs_face_recognition": 0.15},
                GROUP: {"ratio_vs_faceanalysis": 0.79},
            }
        },
        "cold_start": {"process_start_to_first_result": {"p50_ms": 401.0}},
    }
    rows = {row["aim"]: row for row in aims(result)}
    assert list(rows) == [aim.name for aim in AIMS]
    assert [rows[aim.name]["met"] for aim in AIMS] == [True, False, True, True, False]
    assert rows[AIMS[1].name] == {
        "aim": AIMS[1].name,
        "comparison": "<=",
        "target": 0.5,
        "unit": "x",
        "measured": 0.55,
        "met": False,
    }


def test_aims_leave_out_sections_that_did_not_run() -> None:
    only = aims({"detector": {"photos": {ONE_FACE: {"speedup_vs_scrfd_2.5g": 2.0}}}})
    assert [row["aim"] for row in only] == [AIMS[0].name]
    assert aims({"detector": {"photos": {ONE_FACE: {"speedup_vs_scrfd_2.5g": True}}}}) == []


def test_unknown_section_to_skip_is_refused(open_settings: Settings, testdata: Path) -> None:
    with pytest.raises(ValueError, match="unknown bench sections"):
        run_bench(open_settings, testdata, quick=True, skip=("coldstart",))


def test_a_run_skipping_every_section_still_says_what_and_where(
    open_settings: Settings, testdata: Path
) -> None:
    result = run_bench(open_settings, testdata, quick=True, skip=SECTIONS, command="frs bench")
    assert result["schema"] == SCHEMA and result["aims"] == [] and result["skipped"] == sorted(SECTIONS)
    assert result["pack"] == {
        "name": "open",
        "dim": 128,
        "detector": "yunet_2023mar.onnx",
        "landmarker": "face_landmark_mesh.onnx",
        "recognizer": "sface_2021dec_fp32.onnx",
    }
    assert result["machine"]["cores_logical"] >= 1 and result["command"] == "frs bench"
    assert not set(SECTIONS) & set(result)


def test_quick_run_has_every_section_and_its_provenance(bench: dict[str, Any]) -> None:
    assert bench["schema"] == SCHEMA and bench["quick"] is True and bench["runs_per_timing"] == 3
    measured = dt.datetime.strptime(bench["measured_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - measured < dt.timedelta(hours=6)  # this session's run
    assert bench["command"].startswith("frs --pack open bench --photos ") and "--quick" in bench["command"]
    assert {"cpu", "cores_logical", "memory_gib", "python", "onnxruntime"} <= set(bench["machine"])
    for section in ("cold_start", "warm", "throughput", "detector", "peers", "search"):
        assert section in bench, section
    assert "faceanalysis_ratio" not in bench  # the peers section holds the ratios once


def test_every_timing_has_the_same_summary_keys(bench: dict[str, Any]) -> None:
    timings = _timings(bench)
    # cold start 3 phases, warm 2 photos x 4 operations, detector 2 x 2, peers 2 x 3, search 2 sizes x 2 dims
    assert len(timings) == 3 + 8 + 4 + 6 + 4
    for timing in timings:
        assert set(STAT_KEYS) <= set(timing) and isinstance(timing["runs"], int)
        assert timing["min_ms"] <= timing["p50_ms"] <= timing["p95_ms"] <= timing["max_ms"]
        assert timing["min_ms"] <= timing["mean_ms"] <= timing["max_ms"]
    assert bench["cold_start"]["init"]["runs"] == 2 and bench["warm"][ONE_FACE]["add"]["runs"] == 3
    assert [(row["identities"], row["dim"]) for row in bench["search"]] == [
        (1_000, 128),
        (10_000, 128),
        (1_000, 512),
        (10_000, 512),
    ]


def test_ratios_are_the_ratios_of_the_medians_in_the_file(bench: dict[str, Any]) -> None:
    for photo in (ONE_FACE, GROUP):
        peers = bench["peers"]["photos"][photo]
        for peer in ("faceanalysis", "face_recognition"):
            expected = peers["frs"]["p50_ms"] / peers[peer]["p50_ms"]
            assert peers[f"ratio_vs_{peer}"] == pytest.approx(expected, rel=2e-3, abs=1e-3)
        detector = bench["detector"]["photos"][photo]
        expected = detector["scrfd_2.5g"]["p50_ms"] / detector["frs"]["p50_ms"]
        assert detector["speedup_vs_scrfd_2.5g"] == pytest.approx(expected, rel=2e-3, abs=1e-3)


def test_every_peer_finds_the_faces(bench: dict[str, Any]) -> None:
    peers = bench["peers"]
    assert peers["photos"][ONE_FACE]["faces"] == {"frs": 1, "faceanalysis": 1, "face_recognition": 1}
    assert "scrfd_2.5g_kps.onnx" in peers["contenders"]["faceanalysis"]  # YuNet pack: embedded's SCRFD
    assert bench["detector"]["photos"][ONE_FACE]["faces"] == {"frs": 1, "scrfd_2.5g": 1}
    assert bench["peers"]["photos"][GROUP]["faces"]["frs"] == 29


def test_the_aims_of_a_run_are_its_own_figures(bench: dict[str, Any]) -> None:
    rows = {row["aim"]: row for row in bench["aims"]}
    assert list(rows) == [aim.name for aim in AIMS]  # every section ran, so every aim has a figure
    for aim in AIMS:
        value: Any = bench
        for key in aim.path:
            value = value[key]
        assert rows[aim.name]["measured"] == value and rows[aim.name]["met"] == aim.met(value)


def test_summary_rows_name_every_aim_verdict(bench: dict[str, Any]) -> None:
    lines = dict(summary_rows(bench))
    for row in bench["aims"]:
        assert ("met" if row["met"] else "NOT met") in lines[f"aim: {row['aim']}"]
