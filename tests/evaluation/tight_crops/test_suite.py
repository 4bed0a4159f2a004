"""The tight-crop suite end to end on pinned test photos with both FRS packs, and its report.md section."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from frs.config import Settings
from frs.evaluation.report.tight_crops import tight_crop_section
from frs.evaluation.tight_crops import CROP_KINDS, run_suite, sample_photos
from frs.evaluation.tight_crops.systems import frs_system
from frs.pipeline.analyzer import load_analyzer

PHOTOS = ["person_a_1.jpg", "person_b_1.jpg", "fr_obama_1.jpg", "fr_biden.jpg", "newton.png"]


def test_both_packs_find_and_match_every_crop_of_the_pinned_photos(
    settings: Settings, testdata: Path
) -> None:
    analyzers = {p: load_analyzer(dataclasses.replace(settings, pack=p)) for p in ("open", "embedded")}
    reference = analyzers["embedded"]

    def landmarks(rgb):
        faces = reference.detector.detect(rgb, reference.det_threshold)
        return max(faces, key=lambda d: float(d.bbox[2] - d.bbox[0])).landmarks if faces else None

    photos = [(name, reference.decode((testdata / name).read_bytes()).rgb) for name in PHOTOS]
    # A uniform grey frame has no reference face: skipped and counted, not scored.
    photos.append(("grey", photos[0][1] * 0 + 128))
    systems = [frs_system(name, analyzer, "low") for name, analyzer in analyzers.items()]
    result = run_suite(photos, CROP_KINDS, landmarks, systems)
    assert result["protocol"]["photos"] == 5 and result["protocol"]["photos_without_reference_face"] == 1
    rows = result["rows"]
    assert len(rows) == len(CROP_KINDS) * 2
    for row in rows:
        assert row["found"]["n"] >= 4, row  # a crop may reach past a photo's edge and be refused
        assert row["found"]["count"] == row["found"]["n"], row
        assert row["matched"]["count"] == row["matched"]["n"], row
        assert 0 <= row["enrolable"]["count"] <= row["found"]["count"]
    text = "\n".join(tight_crop_section({**json.loads(json.dumps(result)), "dataset": "pinned"}))
    assert "| brow_chin |" in text and "open" in text and "embedded" in text
    assert f"{rows[0]['found']['count']}/{rows[0]['found']['n']}" in text


def test_a_sample_is_one_photo_each_of_distinct_people_and_repeats_with_its_seed(tmp_path: Path) -> None:
    identities = {f"p{i}": [tmp_path / f"p{i}_{j}.jpg" for j in range(3)] for i in range(10)}
    first = sample_photos(identities, 6, seed=3)
    assert first == sample_photos(identities, 6, seed=3) != sample_photos(identities, 6, seed=4)
    owners = [path.name.split("_")[0] for path in first]
    assert len(set(owners)) == 6


def test_another_schema_is_refused_not_guessed() -> None:
    text = "\n".join(tight_crop_section({"schema": "frs-tight-crops/0", "dataset": "x"}))
    assert "unsupported" in text
