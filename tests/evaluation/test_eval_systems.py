"""FRS as a system under test: its default operating points are the service's (calibrated, the pack's fixed
threshold, or an explicit one), computed here by hand from a small calibration."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from frs.config import Settings
from frs.evaluation.systems import cosine, frs_system, pack_calibration
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from tests.decision.hand import HAND_CALIBRATION


@pytest.fixture(scope="module")
def analyzer(open_settings: Settings) -> FaceAnalyzer:
    return load_analyzer(open_settings)


def test_without_a_calibration_both_points_are_the_packs_fixed_threshold(analyzer: FaceAnalyzer) -> None:
    system = frs_system(
        analyzer, target_fpir=0.01, target_far=1e-3, explicit_threshold=None, calibration=None
    )
    fixed = analyzer.manifest.recognizer.match_threshold
    for faces in (1, 30, 1000):
        point = system.identification_point(faces)
        assert (point.threshold, point.source, point.gallery_size) == (fixed, "pack_default", faces)
    assert (system.verification_point.threshold, system.verification_point.source) == (fixed, "pack_default")
    assert system.details["calibration"] is None and system.details["pack"] == "open"


def test_with_a_calibration_the_threshold_rises_with_the_gallery(analyzer: FaceAnalyzer) -> None:
    system = frs_system(
        analyzer, target_fpir=0.01, target_far=1e-3, explicit_threshold=None, calibration=HAND_CALIBRATION
    )
    # FMR(t) = 0.01 exp(-(t - 0.3) / 0.05) above 0.3. One face: FMR = 0.01, t = 0.3. Ten faces: FMR =
    # 1 - 0.99 ** 0.1, t = 0.3 + 0.05 ln(0.01 / FMR).
    assert system.identification_point(1).threshold == pytest.approx(0.3)
    ten = 1 - 0.99**0.1
    assert system.identification_point(10).threshold == pytest.approx(0.3 + 0.05 * math.log(0.01 / ten))
    assert system.identification_point(10).source == "calibrated"
    assert system.verification_point.threshold == pytest.approx(0.3 + 0.05 * math.log(10))
    assert system.details["calibration"] == {"dataset": "hand"}


def test_an_explicit_threshold_overrides_the_calibration(analyzer: FaceAnalyzer) -> None:
    system = frs_system(
        analyzer, target_fpir=0.01, target_far=1e-3, explicit_threshold=0.45, calibration=HAND_CALIBRATION
    )
    point = system.identification_point(10)
    assert (point.threshold, point.source) == (0.45, "explicit")
    assert point.false_match_rate == pytest.approx(
        0.01 * math.exp(-(0.45 - 0.3) / 0.05)
    )  # still says what it means
    assert (system.verification_point.threshold, system.verification_point.source) == (0.45, "explicit")


def test_the_shipped_packs_have_no_calibration_yet_or_a_valid_one(analyzer: FaceAnalyzer) -> None:
    """Until `frs calibrate` writes one, `open` has no record; once it does, it must load."""
    record = pack_calibration(analyzer)
    assert record is None or record.pack == "open"


def test_frs_embeds_a_real_photo_and_scores_by_cosine(analyzer: FaceAnalyzer, testdata: Path) -> None:
    system = frs_system(
        analyzer, target_fpir=0.01, target_far=1e-3, explicit_threshold=None, calibration=None
    )
    faces = list(system.embed(testdata / "person_b_1.jpg"))
    assert len(faces) == 1 and faces[0].embedding is not None and faces[0].embedding.shape == (128,)
    a = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    assert cosine(a, a) == pytest.approx(np.array([[1.0, 0.6], [0.6, 1.0]]))
