"""The crop kinds cut what their names say, from the landmarks of a real face."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frs.config import Settings
from frs.evaluation.tight_crops.crops import CROP_KINDS, aligned_112, brow_chin, face_box
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer


@pytest.fixture(scope="module")
def face(settings: Settings, testdata: Path) -> tuple[np.ndarray, np.ndarray]:
    analyzer: FaceAnalyzer = load_analyzer(settings)
    data = (testdata / "person_a_1.jpg").read_bytes()
    found = max(analyzer.analyze(data, embed=False).faces, key=lambda f: f.area)
    return analyzer.decode(data).rgb, found.landmarks


def test_brow_chin_is_a_grayscale_168x192_badge_crop(face: tuple[np.ndarray, np.ndarray]) -> None:
    crop = brow_chin(*face)
    assert crop is not None and crop.shape == (192, 168, 3)
    assert np.array_equal(crop[:, :, 0], crop[:, :, 1]) and np.array_equal(crop[:, :, 1], crop[:, :, 2])


def test_face_box_margins_widen_the_crop_around_the_same_face(face: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, landmarks = face
    crops = [face_box(m)(rgb, landmarks) for m in (0.0, 0.10, 0.25)]
    assert all(c is not None and c.shape[0] == 160 and c.ndim == 3 for c in crops)
    # At a fixed 160 px height, a wider margin leaves the face smaller: the crop's aspect widens with it.
    ratios = [c.shape[1] / c.shape[0] for c in crops if c is not None]
    assert ratios == sorted(ratios) and ratios[0] < ratios[-1]


def test_aligned_crop_is_112_square(face: tuple[np.ndarray, np.ndarray]) -> None:
    crop = aligned_112(*face)
    assert crop is not None and crop.shape == (112, 112, 3)


def test_a_crop_reaching_past_the_photo_is_refused(face: tuple[np.ndarray, np.ndarray]) -> None:
    """A border we would have to invent is not the photo's: the crop is None, not padded."""
    rgb, landmarks = face
    near_edge = landmarks - landmarks[:, :1].min(axis=0)[None, :] * np.array([1.0, 0.0]) + [2.0, 0.0]
    assert brow_chin(rgb, near_edge.astype(np.float32)) is None
    assert face_box(0.25)(rgb, near_edge.astype(np.float32)) is None


def test_every_kind_has_a_unique_name() -> None:
    names = [kind.name for kind in CROP_KINDS]
    assert len(set(names)) == len(names) == 5
