"""`frs eval` through the real CLI: its options, the operating points it reports, and its errors."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from frs.cli.main import main
from frs.config import Settings
from frs.decision.operating_point import threshold_for, threshold_for_far
from tests.decision.hand import HAND_CALIBRATION
from tests.support.photo_tree import PEOPLE, copy_tree


@pytest.fixture
def tree(tmp_path: Path, testdata: Path) -> Path:
    return copy_tree(tmp_path / "data", testdata, PEOPLE)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_eval_with_a_calibration_reports_the_calibrated_points(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = tmp_path / "calibration.json"
    record.write_text(json.dumps({"calibration": HAND_CALIBRATION.to_dict()}))  # a manifest-shaped file
    out = tmp_path / "out"
    argv = ["--pack", "open", "eval", str(tree), "--gallery-sizes", "all,5", "--draws", "2"]
    argv += ["--target-fpir", "0.05", "--calibration", str(record), "--out", str(out)]
    code, answer = _run(capsys, *argv)
    assert code == 0 and Path(answer["written"]["json"]) == out / "eval.json"
    data = json.loads((out / "eval.json").read_text())
    (frs,) = data["systems"]
    (size,) = frs["identification"]["gallery_sizes"]
    point = size["default_operating_point"]
    assert (size["gallery_size"], point["source"], point["target_fpir"]) == (2, "calibrated", 0.05)
    assert point["threshold"] == round(threshold_for(0.05, 2, HAND_CALIBRATION).threshold, 4)
    far = frs["verification"]["default_operating_point"]
    assert far["threshold"] == round(threshold_for_far(Settings().target_far, HAND_CALIBRATION).threshold, 4)
    assert frs["details"]["calibration"] == {"dataset": "hand"}
    assert data["notes"] == [
        "gallery sizes 5 skipped: the dataset holds galleries of at most 2 "
        "(2 identities have 2 or more photos)"
    ]
    # The recorded command reproduces the run, defaults spelt out.
    assert shlex.split(data["command"]) == [
        "frs", "--pack", "open", "eval", str(tree), "--gallery-sizes", "all,5", "--draws", "2", "--seed", "0",
        "--mated-cap", "10", "--photos-per-person", "1", "--face", "largest",
        "--target-fpir", "0.05", "--target-far", f"{Settings().target_far:g}",
        "--calibration", str(record), "--out", str(out),
    ]  # fmt: skip


def test_an_explicit_threshold_is_the_default_point(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _ = _run(
        capsys, "--pack", "open", "--threshold", "0.5", "eval", str(tree), "--gallery-sizes", "all",
        "--draws", "1", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    data = json.loads((out / "eval.json").read_text())
    point = data["systems"][0]["identification"]["gallery_sizes"][0]["default_operating_point"]
    assert (point["threshold"], point["source"]) == (0.5, "explicit")
    assert data["command"].startswith("frs --pack open --threshold 0.5 eval ")


def test_eval_takes_the_face_rule(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, _ = _run(
        capsys, "--pack", "open", "eval", str(tree), "--gallery-sizes", "all", "--draws", "1",
        "--face", "centre", "--out", str(out),
    )  # fmt: skip
    assert code == 0
    data = json.loads((out / "eval.json").read_text())
    assert data["protocol"]["face_rule"] == "centre"
    assert "--face centre" in data["command"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval"], "give a dataset directory or --pairs CSV"),
        (["eval", "DATA", "--gallery-sizes", "ten"], "gallery sizes are positive integers or 'all'"),
        (["eval", "DATA", "--draws", "0"], "--draws must be at least 1"),
        (["eval", "DATA", "--mated-cap", "-1"], "--mated-cap must be 0 or more"),
        (["eval", "DATA", "--photos-per-person", "0"], "--photos-per-person at least 1"),
        (["eval", "DATA", "--calibration", "MISSING"], "cannot read the calibration record"),
        (["eval", "MISSING"], "dataset directory not found"),
    ],
)
def test_bad_eval_requests_are_bad_requests(
    argv: list[str], message: str, tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    resolved = [
        str(tree) if a == "DATA" else str(tmp_path / "missing") if a == "MISSING" else a for a in argv
    ]
    code, answer = _run(capsys, "--pack", "open", *resolved, "--out", str(tmp_path / "out"))
    assert code == 2 and answer["error"]["code"] == "bad_request"
    assert message in answer["error"]["message"]


@pytest.mark.parametrize("value", ["0", "1", "2", "x"])
def test_target_rates_must_be_between_0_and_1(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "DATA", "--target-fpir", value]) == 2
    assert "--target-fpir" in capsys.readouterr().err


def test_the_cli_offers_exactly_the_evaluations_face_rules() -> None:
    from frs.cli import measure_commands
    from frs.evaluation import embeddings

    assert measure_commands.FACE_RULES == embeddings.FACE_RULES
