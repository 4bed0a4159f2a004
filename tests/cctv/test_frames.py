"""A camera frame takes no detection fallback: a faint face that ``identify`` reports (LOW_CONFIDENCE) is not
a face of the frame, so an empty corridor cannot raise a ``face.unknown`` alert from a shadow."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from frs.cctv.cameras import CameraConfig
from frs.cctv.frames import identify_frame
from frs.config import Settings
from frs.service import FaceService


def _turned_photo(photo: bytes, degrees: float) -> bytes:
    bgr = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    height, width = bgr.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    turned = cv2.warpAffine(bgr, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
    ok, png = cv2.imencode(".png", turned)
    assert ok
    return png.tobytes()


def test_a_frame_takes_no_fallback_where_identify_would(
    open_settings: Settings, testdata: Path, tmp_path: Path
) -> None:
    service = FaceService(dataclasses.replace(open_settings, gallery_uri=str(tmp_path / "galleries")))
    frame = _turned_photo((testdata / "person_a_1.jpg").read_bytes(), 70)  # YuNet: 0.5-0.6, under 0.7

    answered = service.identify("staff", frame)
    assert len(answered["faces"]) == 1  # the shipped fallback (open: 0.5) finds it
    assert "LOW_CONFIDENCE" in answered["faces"][0]["quality"]["issues"]

    seen = identify_frame(service, CameraConfig(gallery="staff", min_face=0, alert_unknown=True), frame)
    assert seen.faces == () and seen.too_small == 0
