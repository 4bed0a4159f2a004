"""The landmark second look (frs.pipeline.refine) on the open pack's YuNet and real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.packs.manifest import DetectorSpec, RefineSpec
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from frs.pipeline.detectors import Detection
from frs.pipeline.refine import LandmarkRefiner, load_refiner

PHOTOS = ("person_a_1.jpg", "person_b_1.jpg", "impostor_1.jpg")


@pytest.fixture(scope="module")
def analyzer(open_settings: Settings) -> FaceAnalyzer:
    return load_analyzer(open_settings)


def _refiner(analyzer: FaceAnalyzer, spec: RefineSpec) -> LandmarkRefiner:
    det_spec = DetectorSpec(**{**analyzer.manifest.detector.__dict__, "refine": spec})
    refiner = load_refiner(det_spec, analyzer.detector_session, manifest=analyzer.manifest.path)
    assert refiner is not None
    return refiner


def _first(analyzer: FaceAnalyzer, rgb: npt.NDArray[np.uint8]) -> Detection:
    found = analyzer.detector.detect(rgb, analyzer.det_threshold)
    assert len(found) == 1
    return found[0]


def _iod(landmarks: npt.NDArray[np.floating]) -> float:
    return float(np.hypot(*(landmarks[1] - landmarks[0])))


@pytest.mark.parametrize("mirror", [False, True])
def test_refined_landmarks_are_the_same_face_and_the_box_stays(
    analyzer: FaceAnalyzer, testdata: Path, mirror: bool
) -> None:
    refiner = _refiner(analyzer, RefineSpec(size=160, context=1.6, mirror=mirror))
    for name in PHOTOS:
        rgb = analyzer.decode((testdata / name).read_bytes()).rgb
        first = _first(analyzer, rgb)
        (refined,) = refiner.refine(rgb, [first])
        assert refined.bbox is first.bbox and refined.score == first.score
        moved = np.linalg.norm(refined.landmarks - first.landmarks, axis=1) / _iod(first.landmarks)
        assert moved.max() < 0.15, name  # a second look, not another face
        assert moved.max() > 0, name  # it did look again


def test_a_face_not_found_again_keeps_its_landmarks(analyzer: FaceAnalyzer) -> None:
    refiner = _refiner(analyzer, RefineSpec(size=160, context=1.6, mirror=True))
    blank = np.full((300, 300, 3), 128, dtype=np.uint8)
    ghost = Detection(
        bbox=np.array([100, 100, 200, 200], dtype=np.float32),
        score=0.9,
        landmarks=np.array([[130, 140], [170, 140], [150, 160], [135, 180], [165, 180]], dtype=np.float32),
    )
    assert refiner.refine(blank, [ghost]) == [ghost]


def test_a_detector_with_a_fixed_input_cannot_refine(settings: Settings) -> None:
    scrfd = load_analyzer(settings)  # SCRFD-2.5G: a 640x640 graph
    spec = DetectorSpec(**{**scrfd.manifest.detector.__dict__, "refine": RefineSpec(160, 1.6, True)})
    with pytest.raises(FRSError, match=r"detector\.refine needs a model with a dynamic input") as caught:
        load_refiner(spec, scrfd.detector_session, manifest=scrfd.manifest.path)
    assert caught.value.code == "model_unavailable"
