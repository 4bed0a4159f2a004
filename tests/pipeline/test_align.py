"""Alignment: our similarity transform against insightface's reference implementation."""

from __future__ import annotations

import numpy as np
import pytest
from insightface.utils import face_align

from frs.pipeline.align import ARCFACE_TEMPLATE, align_face, similarity_transform


def test_transform_recovers_a_known_similarity() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = np.random.default_rng(0).uniform(0, 100, (5, 2))
    target = source @ rotation.T + shift
    matrix = similarity_transform(source, target)
    assert np.allclose(matrix[:, :2], rotation, atol=1e-9)
    assert np.allclose(matrix[:, 2], shift, atol=1e-9)


def test_matches_insightface_norm_crop() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (300, 260, 3), dtype=np.uint8)
    landmarks = (ARCFACE_TEMPLATE * 1.9 + np.array([40.0, 30.0]) + rng.normal(0, 2, (5, 2))).astype(
        np.float32
    )
    ours = align_face(image, landmarks, (112, 112))
    reference = face_align.norm_crop(image, landmarks, image_size=112)
    assert ours.shape == reference.shape == (112, 112, 3)
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1


@pytest.mark.parametrize("size", [(112, 112), (128, 128)])
def test_template_points_land_on_template(size: tuple[int, int]) -> None:
    template = ARCFACE_TEMPLATE * (size[0] / 112.0)
    matrix = similarity_transform(template * 2.0 + 5.0, template)
    mapped = (template * 2.0 + 5.0) @ matrix[:, :2].T + matrix[:, 2]
    assert np.allclose(mapped, template, atol=1e-6)
