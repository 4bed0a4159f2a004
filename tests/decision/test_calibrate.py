"""``frs calibrate``'s parts: the face a photo gives, the record's text, and storing it in a manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from frs.config import REPO_ROOT
from frs.decision.calibrate import central_face, record_text, store_record
from frs.decision.calibration import load_pack_calibration
from frs.pipeline.analyzer import AnalyzedFace
from frs.pipeline.quality import Pose, Quality
from tests.decision.hand import HAND_CALIBRATION

_QUALITY = Quality(1.0, 50, 20, 1.0, Pose(0, 0, 0), 0.5, 0.2, 0.9, ())


def _face(x1: float, y1: float, x2: float, y2: float) -> AnalyzedFace:
    return AnalyzedFace((x1, y1, x2, y2), 0.9, np.zeros((5, 2), np.float32), None, _QUALITY)


def test_the_face_nearest_the_centre_is_the_photos_face() -> None:
    big_corner, small_centre = _face(0, 0, 120, 120), _face(110, 110, 140, 140)
    assert central_face([big_corner, small_centre], 250, 250) is small_centre
    assert central_face([big_corner], 250, 250) is big_corner
    assert central_face([], 250, 250) is None


def test_the_record_text_is_the_record_with_one_quantile_per_line() -> None:
    record = HAND_CALIBRATION.to_dict()
    text = record_text(record)
    assert json.loads(text) == json.loads(json.dumps(record))
    assert "    [0.1, 0.2],\n" in text


def test_stored_in_a_manifest_copy_it_loads_back_and_nothing_else_moves(tmp_path: Path) -> None:
    manifest = tmp_path / "embedded.json"
    manifest.write_text((REPO_ROOT / "models" / "embedded.json").read_text())
    before = json.loads(manifest.read_text())
    assert store_record(HAND_CALIBRATION, manifest=manifest, out=None) == manifest
    assert load_pack_calibration(manifest) == HAND_CALIBRATION
    after = json.loads(manifest.read_text())
    assert {k: v for k, v in after.items() if k != "calibration"} == {
        k: v for k, v in before.items() if k != "calibration"
    }
    out = tmp_path / "record.json"
    assert store_record(HAND_CALIBRATION, manifest=manifest, out=out) == out
    assert json.loads(out.read_text()) == after["calibration"]
