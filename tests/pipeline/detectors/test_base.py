"""Letterboxing a photo onto a detector's input: the scale it is seen at, and the enlargement cap."""

from __future__ import annotations

import numpy as np
import pytest

from frs.pipeline.detectors.base import fit_on_canvas, iou


def _photo(width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), 200, dtype=np.uint8)


def test_a_small_photo_is_enlarged_to_fit_without_a_cap() -> None:
    canvas, factor = fit_on_canvas(_photo(250, 250), (640, 640), None, multiple=32)
    assert factor == 640 / 250
    assert canvas.shape == (640, 640, 3)


def test_the_cap_limits_enlargement_and_shrinks_the_canvas_of_a_dynamic_input() -> None:
    canvas, factor = fit_on_canvas(_photo(250, 200), (640, 640), None, multiple=32, max_upscale=1.25)
    assert factor == 1.25
    # 312.5 x 250 rounded, then up to the stride multiple: the network runs on far fewer pixels.
    assert canvas.shape == (256, 320, 3)
    assert (canvas[:250, :312] == 200).all() and (canvas[250:] == 0).all()


def test_the_cap_pads_a_fixed_input_instead_of_enlarging() -> None:
    canvas, factor = fit_on_canvas(_photo(250, 250), (640, 640), (640, 640), max_upscale=1.0)
    assert factor == 1.0
    assert canvas.shape == (640, 640, 3)
    assert (canvas[:250, :250] == 200).all() and (canvas[250:, :] == 0).all() and (canvas[:, 250:] == 0).all()


def test_the_cap_never_changes_a_photo_larger_than_the_input() -> None:
    capped = fit_on_canvas(_photo(1280, 960), (640, 640), None, multiple=32, max_upscale=1.0)
    plain = fit_on_canvas(_photo(1280, 960), (640, 640), None, multiple=32)
    assert capped[1] == plain[1] == 0.5
    assert capped[0].shape == plain[0].shape == (480, 640, 3)


def test_iou_of_boxes() -> None:
    box = np.array([0, 0, 10, 10], dtype=np.float32)
    assert iou(box, box) == 1.0
    assert iou(box, np.array([5, 0, 15, 10], dtype=np.float32)) == pytest.approx(50 / 150)
    assert iou(box, np.array([10, 0, 20, 10], dtype=np.float32)) == 0.0
