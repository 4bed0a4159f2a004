"""`frs calibrate DATASET` through the real CLI on the test photos arranged as a dataset: into --out, and into
the pack manifest (only its "calibration" member changes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frs.cli.main import main
from frs.config import Settings
from frs.decision.calibration import calibration_from_dict, load_pack_calibration
from tests.cli.run import Cli
from tests.support.packs import embedded_copy


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("dataset") / "faces"
    assert main(["--pack", "embedded", "testdata", "dataset", "--dest", str(dest)]) == 0
    return dest


def test_calibrate_writes_a_record_to_out(
    capsys: pytest.CaptureFixture[str], dataset: Path, tmp_path: Path
) -> None:
    cli = Cli(capsys)
    out = tmp_path / "record.json"
    code, summary = cli("calibrate", str(dataset), "--pack", "embedded", "--out", str(out))
    assert code == 0 and summary["written"] == str(out)
    record = calibration_from_dict(json.loads(out.read_text()))
    photos = sum(1 for p in dataset.rglob("*") if p.is_file())
    assert record.faces == photos - sum(summary["skipped"].values()) and record.impostors.groups == 1
    assert summary["population"] == "each_identity_weighs_one"
    assert record.dataset == "faces"  # the folder's name, never a path of this machine
    thresholds = list(summary["identify_thresholds"]["target_fpir=0.01"].values())
    assert thresholds == sorted(thresholds) and thresholds[0] < thresholds[-1]  # rises with the gallery


def test_calibrate_stores_the_record_in_the_pack_manifest(
    capsys: pytest.CaptureFixture[str], dataset: Path, settings: Settings, tmp_path: Path
) -> None:
    copy = embedded_copy(settings, tmp_path / "models", "mine", None)
    manifest = copy.models_dir / "mine.json"
    before = manifest.read_text()
    code, summary = Cli(capsys)(
        "calibrate", str(dataset), "--pack", "mine", "--models-dir", str(copy.models_dir),
        "--group-size", "0", "--label", "test photos",
    )  # fmt: skip
    assert code == 0 and summary["written"] == str(manifest)
    record = load_pack_calibration(manifest)
    assert record is not None and record.pack == "mine" and record.dataset == "test photos"
    after = manifest.read_text()
    assert after.startswith(before.rstrip()[:-1].rstrip())  # the old members, byte for byte, then the record
    assert json.loads(after) == {**json.loads(before), "calibration": json.loads(after)["calibration"]}


def test_too_few_identities_is_a_bad_request(
    capsys: pytest.CaptureFixture[str], testdata: Path, tmp_path: Path
) -> None:
    one = tmp_path / "one" / "person"
    one.mkdir(parents=True)
    (one / "a.jpg").write_bytes((testdata / "person_b_1.jpg").read_bytes())
    code, out = Cli(capsys)(
        "--pack", "embedded", "calibrate", str(tmp_path / "one"), "--out", str(tmp_path / "r.json")
    )
    assert code == 2 and out["error"]["code"] == "bad_request"
    assert not (tmp_path / "r.json").exists()
