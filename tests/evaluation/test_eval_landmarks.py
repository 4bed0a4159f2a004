"""Landmark error statistics and the template fit, on hand-made landmarks with a known offset."""

from __future__ import annotations

import numpy as np
import pytest

from frs.evaluation.landmarks import error_summary, face_frame_errors, fit_template
from frs.pipeline.align import ARCFACE_TEMPLATE


def _faces(count: int, seed: int = 0) -> np.ndarray:
    """``count`` ArcFace-shaped faces at random scale, roll and position."""
    rng = np.random.default_rng(seed)
    faces = []
    for _ in range(count):
        angle, scale = rng.uniform(-0.5, 0.5), rng.uniform(0.5, 3.0)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        faces.append(ARCFACE_TEMPLATE @ rotation.T * scale + rng.uniform(0, 500, 2))
    return np.array(faces)


def _in_image(faces: np.ndarray, offset_in_iods: np.ndarray) -> np.ndarray:
    """``offset_in_iods`` (5x2, face frame) placed on each face in image pixels."""
    moved = []
    for face in faces:
        eye_line = face[1] - face[0]
        iod = np.linalg.norm(eye_line)
        x_axis = eye_line / iod
        y_axis = np.array([-x_axis[1], x_axis[0]])
        moved.append(face + iod * (offset_in_iods[:, :1] * x_axis + offset_in_iods[:, 1:] * y_axis))
    return np.array(moved)


def test_a_constant_offset_in_the_face_frame_is_all_bias() -> None:
    reference = _faces(50)
    offset = np.zeros((5, 2))
    offset[2] = [0.0, 0.05]  # the nose 5% of the IOD lower, whatever the face's roll and size
    errors, iod = face_frame_errors(_in_image(reference, offset), reference)
    assert errors == pytest.approx(np.broadcast_to(offset, errors.shape), abs=1e-9)
    summary = error_summary(errors, iod)
    nose = summary["landmarks"][2]
    assert nose["bias"] == pytest.approx([0.0, 0.05]) and nose["error_without_bias"] == pytest.approx(0)
    assert summary["nme"]["mean"] == pytest.approx(0.01)  # one landmark of five off by 0.05
    assert summary["faces"] == 50 and sum(b["faces"] for b in summary["by_face_size"]) >= 50


def test_noise_stays_after_the_bias_is_removed() -> None:
    reference = _faces(400, seed=1)
    noise = np.random.default_rng(2).normal(0, 0.03, (400, 5, 2))
    candidate = np.array([_in_image(f[None], n)[0] for f, n in zip(reference, noise, strict=True)])
    summary = error_summary(*face_frame_errors(candidate, reference))
    assert summary["nme_without_bias"] == pytest.approx(summary["nme"]["mean"], rel=0.05)
    assert all(abs(b) < 0.01 for mark in summary["landmarks"] for b in mark["bias"])


def test_the_fitted_template_holds_the_offset_in_crop_pixels() -> None:
    reference = _faces(20, seed=3)
    offset = np.zeros((5, 2))
    offset[3:, 1] = -0.1  # mouth corners a tenth of the IOD higher
    fitted = fit_template(_in_image(reference, offset), reference)
    iod = np.linalg.norm(ARCFACE_TEMPLATE[1] - ARCFACE_TEMPLATE[0])
    expected = ARCFACE_TEMPLATE.copy()
    expected[3:, 1] -= 0.1 * iod
    assert fitted == pytest.approx(expected, abs=0.05)


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match=r"\(faces, 5, 2\)"):
        face_frame_errors(np.zeros((3, 4, 2)), np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="same faces"):
        face_frame_errors(_faces(2), _faces(3))
