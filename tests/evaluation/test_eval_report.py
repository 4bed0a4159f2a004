"""report.md rendered by the real `frs report` from a real `frs bench --quick` run and a real `frs eval` run
(with the face_recognition peer) on the pinned test photos: the tables show what the files hold."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from frs.cli.main import main
from frs.evaluation.report import render_report
from frs.evaluation.report.format import rate
from tests.support.measurements import load, pinned_eval, quick_bench

FULL_RATE = re.compile(r"^\S+ % \[\S+, \S+\] \([\d,]+/[\d,]+\)$")


@pytest.fixture(scope="module")
def files() -> tuple[dict[str, Any], dict[str, Any]]:
    return load(pinned_eval()), load(quick_bench())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("report") / "docs" / "report.md"
    out.parent.mkdir()
    argv = ["report", "--eval", str(pinned_eval()), "--bench", str(quick_bench()), "--out", str(out)]
    assert main(argv) == 0
    return out.read_text(), out


def _table(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``, as cells."""
    lines = text.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[start + 2 : end]]


def test_machine_and_times_come_from_the_files(files: tuple[dict[str, Any], dict[str, Any]]) -> None:
    eval_json, bench_json = copy.deepcopy(files[0]), copy.deepcopy(files[1])
    eval_json["machine"]["cpu"] = "CPU of the eval run"
    bench_json["machine"]["cpu"] = "CPU of the bench run"
    text = render_report([eval_json], bench_json, [])
    assert "| cpu | CPU of the eval run | CPU of the bench run |" in text
    assert f"| measured at (UTC) | {eval_json['measured_at']} | {bench_json['measured_at']} |" in text


def test_no_flat_dumps_of_unknown_shapes(report: tuple[str, Path]) -> None:
    text, _ = report
    assert " / p50" not in text and "| value |" not in text and "| metric | value |" not in text
    assert "_not measured_" not in text and "unsupported" not in text


def test_default_operating_point_rates_are_complete_and_are_the_files(
    report: tuple[str, Path], files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    text, _ = report
    rows = _table(text, "#### At the default operating point")
    systems = files[0]["systems"]
    assert [row[0] for row in rows] == [s["label"] for s in systems]  # one gallery size in the pinned set
    for row, system in zip(rows, systems, strict=True):
        (size,) = system["identification"]["gallery_sizes"]
        point = size["default_operating_point"]
        assert row[1] == str(size["gallery_size"]) == "3"
        assert FULL_RATE.match(row[3]) and FULL_RATE.match(row[4])
        assert row[3].endswith(f"({point['fpir']['count']}/{point['fpir']['n']:,})")
        assert row[4].endswith(f"({point['fnir']['count']}/{point['fnir']['n']})")
        assert row[2].startswith(f"{point['threshold']:.3f} (")
    # The pack ships a calibration record, so FRS's default is the calibrated target; the peer's is its own.
    assert "(calibrated, target FPIR 1%)" in rows[0][2] and "(library default)" in rows[1][2]


def test_fnir_at_fpir_says_why_it_cannot_be_measured_on_few_strangers(
    report: tuple[str, Path], files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    text, _ = report
    rows = _table(text, "#### FNIR at fixed FPIR")
    distinct = files[0]["systems"][0]["identification"]["gallery_sizes"][0]["distinct_photos"]["nonmated"]
    assert distinct < 100  # the pinned set has a few dozen strangers
    for row in rows:
        assert row[5] == f"not measurable: needs 100 distinct non-mated photos, has {distinct}"
        assert FULL_RATE.match(row[-1])  # rank-1 identification
    assert "Gallery sizes N = 3;" in text


def test_verification_rows_carry_their_samples(
    report: tuple[str, Path], files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    text, _ = report
    rows = _table(text, "### Verification (1:1)")
    for row, system in zip(rows, files[0]["systems"], strict=True):
        verification = system["verification"]
        assert (
            row[1].startswith(f"{verification['genuine_pairs']:,}")
            and row[2] == f"{verification['impostor_pairs']:,}"
        )
        assert FULL_RATE.match(row[-2]) and FULL_RATE.match(row[-1])
        assert row[-1] == rate(verification["default_operating_point"]["far"])


def test_plots_are_linked_relative_to_the_report(report: tuple[str, Path]) -> None:
    text, out = report
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(links) == 6  # DET, ROC and histogram for FRS and for the peer
    for link in links:
        assert not link.startswith("/") and (out.parent / link).resolve().is_file()


def test_speed_tables_read_the_bench_file(
    report: tuple[str, Path], files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    text, _ = report
    bench = files[1]
    assert "**Quick run**" in text
    pack = bench["pack"]
    model_files = [pack[role] for role in ("detector", "landmarker", "recognizer") if pack.get(role)]
    assert f"Pack `{pack['name']}`: {' + '.join(model_files)} (" in text
    assert pack["name"] != "open" or len(model_files) == 3  # open's face mesh is named
    aims = _table(text, "### Speed aims")
    assert [row[0] for row in aims] == [aim["aim"] for aim in bench["aims"]]
    assert [row[3] for row in aims] == ["met" if aim["met"] else "**missed**" for aim in bench["aims"]]
    cold = _table(text, "### Cold start")
    assert [row[0] for row in cold] == [
        "process start to first result",
        "INIT (imports, pack load, sessions)",
        "first request (detect)",
    ]
    assert cold[0][-1] == "2"  # runs
    peers = _table(text, "### Detect + embed against the peers")
    assert [row[0] for row in peers] == ["`person_b_1.jpg`", "`solvay_conference_1927.jpg`"]
    assert peers[0][4] == f"{bench['peers']['photos']['person_b_1.jpg']['ratio_vs_faceanalysis']:.2f}x"
    assert peers[0][6] == "1 / 1 / 1"
    search = _table(text, "### Gallery search")
    assert [(row[0], row[1]) for row in search] == [
        ("1,000", "128"),
        ("10,000", "128"),
        ("1,000", "512"),
        ("10,000", "512"),
    ]


def test_reproduce_lists_the_commands_the_files_recorded(
    report: tuple[str, Path], files: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    text, _ = report
    reproduce = text.split("## Reproduce", 1)[1]
    assert files[0]["command"] in reproduce and files[1]["command"] in reproduce
    assert "--peer face_recognition" in files[0]["command"]
    assert "frs report --eval " in reproduce


def test_two_evals_of_one_dataset_share_one_section(files: tuple[dict[str, Any], dict[str, Any]]) -> None:
    first, second = copy.deepcopy(files[0]), copy.deepcopy(files[0])
    second["systems"] = second["systems"][:1]
    second["systems"][0]["label"] = "FRS, pack other"
    second["command"] = "frs --pack other eval ..."
    text = render_report([first, second], None, [])
    assert text.count("## Accuracy:") == 1
    rows = _table(text, "#### At the default operating point")
    assert [row[0] for row in rows] == ["FRS, pack open", "face_recognition (dlib)", "FRS, pack other"]
    assert "`frs --pack other eval ...`" in text and f"`{first['command']}`" in text


def test_old_or_foreign_files_are_refused_not_guessed(files: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old_eval = {"mode": "dataset", "source": "x", "identification": {"top1": 1.0}}
    old_bench = {"cold_start": {"min": 1}, "pack": {"name": "open"}}
    text = render_report([old_eval], old_bench, [])
    assert "_unsupported eval file (schema None" in text and "_unsupported bench file (schema None" in text
    assert "100" not in text.split("## Accuracy", 1)[1]


def test_report_without_inputs_says_not_measured() -> None:
    text = render_report([], None, [])
    assert text.count("_not measured_") == 2
    assert "_commands not recorded_" in text


def test_report_cli_leaves_out_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.md"
    assert (
        main(
            [
                "report",
                "--eval",
                str(tmp_path / "nope.json"),
                "--bench",
                str(tmp_path / "no.json"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "not found; that section is left out" in capsys.readouterr().err
    assert "_not measured_" in out.read_text()
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["report", "--eval", str(tmp_path / "bad.json"), "--out", str(out)]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_request"
