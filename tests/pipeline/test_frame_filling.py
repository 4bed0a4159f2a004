"""The second look for frame-filling faces, on both packs: crops cut from real photos (badge crops at brow and
chin, face boxes without margin, 112x112 aligned crops) give their face back, in the crop's own pixels, with
the embedding of the full photo's face."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from frs.config import Settings
from frs.evaluation.tight_crops.crops import CROP_KINDS, CropKind
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer, load_analyzer
from frs.pipeline.detectors import Detection
from frs.pipeline.frame_filling import closer_look, fills_frame

PHOTOS = ["person_a_1.jpg", "person_b_1.jpg", "fr_obama_1.jpg", "fr_biden.jpg", "impostor_1.jpg"]
TIGHT = [kind for kind in CROP_KINDS if kind.name in ("brow_chin", "face_box_0", "aligned_112")]


@pytest.fixture(scope="module")
def analyzer(pack_settings: Settings) -> FaceAnalyzer:
    return load_analyzer(pack_settings)


def _png(rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return buffer.tobytes()


def _main_face(analyzer: FaceAnalyzer, data: bytes) -> AnalyzedFace:
    faces = analyzer.analyze(data).faces
    assert faces, "the full photo has a face"
    return max(faces, key=lambda face: face.area)


@pytest.mark.parametrize("kind", TIGHT, ids=lambda kind: kind.name)
def test_frame_filling_crops_give_the_photo_s_face(
    analyzer: FaceAnalyzer, testdata: Path, kind: CropKind
) -> None:
    for photo in PHOTOS:
        data = (testdata / photo).read_bytes()
        full = _main_face(analyzer, data)
        crop = kind.make(analyzer.decode(data).rgb, full.landmarks)
        assert crop is not None, photo
        faces = analyzer.analyze(_png(crop)).faces
        assert len(faces) == 1, (photo, kind.name)
        face = faces[0]
        assert face.embedding is not None and full.embedding is not None
        similarity = float(face.embedding @ full.embedding)
        assert similarity >= analyzer.match_threshold, (photo, kind.name, similarity)
        # An ID crop can be enrolled: the default enrolment filter (low) does not refuse it.
        assert analyzer.quality_refusals(face, "low") == (), (photo, kind.name, face.quality.to_dict())
        # In the crop's pixels: the eyes sit inside it, left of the right eye, above the mouth.
        height, width = crop.shape[:2]
        eyes, mouth = face.landmarks[:2], face.landmarks[3:]
        assert np.all((eyes >= 0) & (eyes <= [width, height])), (photo, kind.name)
        assert eyes[0, 0] < eyes[1, 0] and eyes[:, 1].max() < mouth[:, 1].min()


def test_landmarks_come_back_in_the_photo_s_pixels(analyzer: FaceAnalyzer, testdata: Path) -> None:
    """The second look shrinks the photo onto a grey canvas; its landmarks, mapped back, are where the first
    pass puts them on the uncut photo (shifted by the cut), to a small fraction of the eye distance."""
    data = (testdata / "person_a_1.jpg").read_bytes()
    rgb = analyzer.decode(data).rgb
    first = analyzer.detector.detect(rgb, analyzer.det_threshold)
    full = max(first, key=lambda d: float((d.bbox[2] - d.bbox[0]) * (d.bbox[3] - d.bbox[1])))
    x1, y1, x2, y2 = (int(np.rint(v)) for v in full.bbox)
    x1, y1 = max(0, x1), max(0, y1)
    cut = np.ascontiguousarray(rgb[y1:y2, x1:x2])
    found = analyzer.frame_filling.detect(cut, analyzer.det_threshold)
    assert len(found) == 1
    expected = full.landmarks - np.array([x1, y1], dtype=np.float32)
    eye_distance = float(np.linalg.norm(full.landmarks[1] - full.landmarks[0]))
    error = np.linalg.norm(found[0].landmarks - expected, axis=1).max() / eye_distance
    assert error < 0.15


def test_a_photo_without_a_face_stays_empty_after_the_second_look(analyzer: FaceAnalyzer) -> None:
    """The second look runs on every photo where the first pass found nothing: a textured photo without a
    face must not turn up one."""
    rng = np.random.default_rng(7)
    noise = np.asarray(
        cv2.GaussianBlur(rng.integers(0, 256, (240, 200, 3), dtype=np.uint8), (5, 5), 0), dtype=np.uint8
    )
    assert analyzer.detector.detect(noise, analyzer.det_threshold) == []
    assert analyzer.analyze(_png(noise)).faces == []


def test_a_dark_frame_filling_crop_is_found_on_the_brightened_copy(
    pack_settings: Settings, testdata: Path
) -> None:
    """Badge crops from a dark corridor camera: nothing on the plain passes, found when the illumination
    step brightens the frame and the frame-filling look runs on the brightened copy too."""
    on = load_analyzer(pack_settings)
    off = load_analyzer(dataclasses.replace(pack_settings, illumination="off"))
    for photo in ("person_a_1.jpg", "person_b_1.jpg", "fr_biden.jpg"):
        data = (testdata / photo).read_bytes()
        full = _main_face(on, data)
        for kind in TIGHT[:2]:  # brow_chin, face_box_0
            crop = kind.make(on.decode(data).rgb, full.landmarks)
            assert crop is not None
            dark = _png(np.clip(crop.astype(np.float32) * 0.05, 0, 255).astype(np.uint8))
            assert off.analyze(dark).faces == [], (photo, kind.name)
            assert len(on.analyze(dark).faces) == 1, (photo, kind.name)


def _detection(box: tuple[float, float, float, float], score: float) -> Detection:
    return Detection(np.array(box, dtype=np.float32), score, np.zeros((5, 2), dtype=np.float32))


def test_only_a_lone_face_covering_half_the_frame_fills_it() -> None:
    shape = (200, 100, 3)
    assert fills_frame([_detection((0, 0, 100, 100), 0.9)], shape)
    assert not fills_frame([_detection((0, 0, 100, 99), 0.9)], shape)
    assert not fills_frame([_detection((0, 0, 100, 100), 0.9), _detection((0, 100, 100, 200), 0.9)], shape)
    assert not fills_frame([], shape)


def test_the_closer_look_replaces_the_same_face_only_when_it_scores_higher() -> None:
    first = [_detection((0, 0, 100, 100), 0.78)]
    same_higher = _detection((5, 5, 100, 105), 0.93)
    elsewhere = _detection((300, 300, 400, 400), 0.99)
    assert closer_look(first, [elsewhere, same_higher]) == [same_higher]
    assert closer_look(first, [_detection((5, 5, 100, 105), 0.7)]) == first
    assert closer_look(first, [elsewhere]) == first
    assert closer_look(first, []) == first
    assert closer_look([], [elsewhere]) == [elsewhere]


def test_an_ordinary_photo_takes_no_second_look(analyzer: FaceAnalyzer, testdata: Path) -> None:
    """A portrait whose face sits well inside the frame, and a group photo, keep the first pass's faces."""
    for photo in ("person_a_1.jpg", "solvay_conference_1927.jpg"):
        rgb = analyzer.decode((testdata / photo).read_bytes()).rgb
        assert not fills_frame(analyzer.detector.detect(rgb, analyzer.det_threshold), rgb.shape), photo
