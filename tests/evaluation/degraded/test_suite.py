"""The degraded suite end to end on the pinned test photos (4 people: a folder each) with the open pack, and
its report.md section."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from frs.config import Settings
from frs.decision.operating_point import threshold_for
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.degraded.conditions import CLEAN, Condition
from frs.evaluation.degraded.suite import Plan, Vector, run_suite
from frs.evaluation.report.degraded import degraded_section
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer

PHOTOS = {
    "a": ["person_a_1.jpg", "person_a_2.jpg"],
    "b": ["person_b_1.jpg", "person_b_2.jpg"],
    "c": ["fr_obama_1.jpg", "fr_obama_2.jpg"],
    "d": ["impostor_1.jpg"],
    "e": ["impostor_2.jpg"],
    "f": ["fr_biden.jpg"],
}


def test_dark_copies_lose_faces_the_step_finds_again(
    open_settings: Settings, testdata: Path, tmp_path: Path
) -> None:
    for person, names in PHOTOS.items():
        (tmp_path / person).mkdir()
        for name in names:
            shutil.copy(testdata / name, tmp_path / person / name)
    embed = {}
    for mode in ("off", "detect"):
        analyzer = load_analyzer(dataclasses.replace(open_settings, illumination=mode))

        def largest(data: bytes, analyzer: FaceAnalyzer = analyzer) -> Vector | None:
            faces = analyzer.analyze(data).faces
            return max(faces, key=lambda f: f.area).embedding if faces else None

        embed[mode] = largest
    calibration = load_analyzer(open_settings).calibration
    assert calibration is not None
    dark = Condition("brightness x0.04", brightness=0.04)
    result = run_suite(
        scan_dataset(tmp_path),
        (CLEAN, dark),
        embed,
        lambda target, size: threshold_for(target, size, calibration).threshold,
        Plan(gallery_sizes=(1,), strangers=2),
        retry_modes=("detect",),
    )
    rows = {(r["condition"], r["mode"]): r for r in result["rows"]}
    assert rows[("clean", "off")]["faces_found"]["count"] == rows[("clean", "off")]["faces_found"]["n"]
    assert rows[("clean", "off")]["fnir"] == rows[("clean", "detect")]["fnir"]
    # The frame-filling look may find a face or two in the dark copies; the step finds more.
    lost = rows[("brightness x0.04", "off")]["faces_found"]
    assert lost["count"] < lost["n"]
    assert rows[("brightness x0.04", "detect")]["faces_found"]["count"] > lost["count"]
    text = "\n".join(degraded_section({**result, "pack": "open", "dataset": "pinned"}))
    assert "brightness x0.04" in text and "faces found `detect`" in text
