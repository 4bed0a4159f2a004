"""The face-mesh landmarker (frs.pipeline.landmarker) behind the open pack's YuNet, on real photos: its five
points are the same face's, closer to SCRFD's than YuNet's own, follow the face when the photo turns, and
only alignment uses them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from frs.config import Settings
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from frs.pipeline.detectors import Detection
from frs.pipeline.detectors.base import iou
from frs.pipeline.landmarker import FaceMeshLandmarker, five_points, region_transform

PHOTOS = ("person_a_1.jpg", "person_a_2.jpg", "person_b_1.jpg", "person_b_2.jpg", "impostor_1.jpg")


@pytest.fixture(scope="module")
def analyzer(open_settings: Settings) -> FaceAnalyzer:
    return load_analyzer(open_settings)


@pytest.fixture(scope="module")
def landmarker(analyzer: FaceAnalyzer) -> FaceMeshLandmarker:
    assert analyzer.landmarker is not None, "the open pack declares a landmarker"
    return analyzer.landmarker


def _rgb(analyzer: FaceAnalyzer, path: Path) -> npt.NDArray[np.uint8]:
    return analyzer.decode(path.read_bytes()).rgb


def _face(analyzer: FaceAnalyzer, rgb: npt.NDArray[np.uint8]) -> Detection:
    found = analyzer.detector.detect(rgb, analyzer.det_threshold)
    return max(found, key=lambda d: float((d.bbox[2] - d.bbox[0]) * (d.bbox[3] - d.bbox[1])))


def _iod(points: npt.NDArray[np.floating]) -> float:
    return float(np.hypot(*(points[1] - points[0])))


def test_five_points_are_the_eye_centres_nose_tip_and_mouth_corners() -> None:
    mesh = np.zeros((468, 2))
    mesh[[33, 133]] = [[10, 50], [30, 50]]  # two of the image-left eye's contour points
    mesh[[263, 362]] = [[90, 50], [70, 50]]
    mesh[1], mesh[61], mesh[291] = [50, 70], [35, 90], [65, 90]
    points = five_points(mesh)
    assert points[0][0] < points[1][0]  # image-left eye first, as in the five-point convention
    np.testing.assert_allclose(points[2:], [[50, 70], [35, 90], [65, 90]])


def test_the_region_is_levelled_on_the_detectors_eyes() -> None:
    tilted = Detection(
        bbox=np.array([100, 100, 200, 220], np.float32),
        score=0.9,
        landmarks=np.array([[120, 150], [180, 170], [150, 180], [130, 200], [170, 210]], np.float32),
    )
    matrix = region_transform(tilted, 192, 1.3)
    eyes = tilted.landmarks[:2].astype(np.float64) @ matrix[:, :2].T + matrix[:, 2]
    assert abs(eyes[0, 1] - eyes[1, 1]) < 1e-6  # level
    centre = np.array([150.0, 160.0]) @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(centre, [96, 96])  # the box centre is the region's
    side = 192 / np.hypot(*matrix[0, :2])
    assert side == pytest.approx(1.3 * 120)  # the longer side times roi_scale


def test_points_are_the_same_face_and_closer_to_scrfd_than_yunets(
    analyzer: FaceAnalyzer, landmarker: FaceMeshLandmarker, settings: Settings, testdata: Path
) -> None:
    scrfd = load_analyzer(settings)
    ours, theirs = [], []
    for name in PHOTOS:
        rgb = _rgb(analyzer, testdata / name)
        face = _face(analyzer, rgb)
        (points,) = landmarker.points(rgb, [face])
        reference = max(scrfd.detector.detect(rgb, scrfd.det_threshold), key=lambda d: iou(d.bbox, face.bbox))
        iod = _iod(reference.landmarks)
        ours.append(np.linalg.norm(points - reference.landmarks, axis=1).mean() / iod)
        theirs.append(np.linalg.norm(face.landmarks - reference.landmarks, axis=1).mean() / iod)
        assert ours[-1] < 0.15, name  # the same face's landmarks
    assert np.mean(ours) < np.mean(theirs)


def test_points_follow_the_face_when_the_photo_turns(
    analyzer: FaceAnalyzer, landmarker: FaceMeshLandmarker, testdata: Path
) -> None:
    rgb = _rgb(analyzer, testdata / "person_b_1.jpg")
    height, width = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 20, 1.0)
    turned = np.asarray(cv2.warpAffine(rgb, turn, (width, height), borderMode=cv2.BORDER_REFLECT), np.uint8)
    (upright,) = landmarker.points(rgb, [_face(analyzer, rgb)])
    (rotated,) = landmarker.points(turned, [_face(analyzer, turned)])
    expected = upright.astype(np.float64) @ turn[:, :2].T + turn[:, 2]
    assert np.linalg.norm(rotated - expected, axis=1).max() < 0.08 * _iod(upright)


def test_faces_of_one_photo_go_through_in_one_batch_in_order(
    analyzer: FaceAnalyzer, landmarker: FaceMeshLandmarker, testdata: Path
) -> None:
    rgb = _rgb(analyzer, testdata / "solvay_conference_1927.jpg")
    faces = analyzer.detector.detect(rgb, analyzer.det_threshold)[:6]
    together = landmarker.points(rgb, faces)
    alone = [landmarker.points(rgb, [face])[0] for face in faces]
    assert len(together) == len(faces) == 6
    for joint, single, face in zip(together, alone, faces, strict=True):
        np.testing.assert_allclose(joint, single, atol=1e-2)
        inside = (joint[:, 0] >= face.bbox[0] - 5) & (joint[:, 0] <= face.bbox[2] + 5)
        assert inside.all()
    assert landmarker.points(rgb, []) == []


def test_only_alignment_uses_the_landmarker(analyzer: FaceAnalyzer, testdata: Path) -> None:
    """The reported landmarks and quality stay the detector's; the embedding comes from the mesh's crop."""
    data = (testdata / "person_a_1.jpg").read_bytes()
    without = FaceAnalyzer(dataclasses.replace(analyzer.manifest, landmarker=None), analyzer.settings)
    (meshed,) = analyzer.analyze(data).faces
    (plain,) = without.analyze(data).faces
    np.testing.assert_array_equal(meshed.landmarks, plain.landmarks)
    assert meshed.quality == plain.quality and meshed.bbox == plain.bbox
    assert meshed.embedding is not None and plain.embedding is not None
    similarity = float(meshed.embedding @ plain.embedding)
    assert 0.8 < similarity < 0.9999  # the same face, aligned a little differently
