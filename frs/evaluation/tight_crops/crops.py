"""The frame-filling crops users send, built from a photo and its face's five landmarks.

Every crop is measured from the face itself, so it means the same on every photo: ``d`` is the distance from
the midpoint of the eyes to the midpoint of the mouth corners, the face's vertical axis.

- ``brow_chin``: cut at the brows and the chin (about 0.45 ``d`` above the eyes, 0.75 ``d`` below the
  mouth), 7:8 wide, scaled to 168x192 and made grayscale: the badge and lab-set crops (Yale's are so cut);
- ``face_box_<m>``: the face box (brow to chin, cheek to cheek) widened by ``m`` per cent each side, in
  colour, at 160 px tall: camera thumbnails and ID crops with a little margin;
- ``aligned_112``: the 112x112 ArcFace-aligned crop other systems export.

Crops that would reach outside the photo are refused (``None``): their border would be padding we made,
not the photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from frs.pipeline.align import align_face

Image = npt.NDArray[np.uint8]
Points = npt.NDArray[np.floating]
#: Above the eye line to the brows, and below the mouth line to the chin, in eye-to-mouth distances.
BROW = 0.45
CHIN = 0.75
#: Width over height of a brow-to-chin crop (Yale's 168x192).
BROW_CHIN_ASPECT = 168 / 192


@dataclass(frozen=True)
class CropKind:
    name: str
    description: str
    make: Callable[[Image, Points], Image | None]


def _axis(landmarks: Points) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eyes = points[:2].mean(axis=0)
    mouth = points[3:].mean(axis=0)
    return eyes, mouth, float(np.linalg.norm(mouth - eyes))


def _cut(rgb: Image, centre_x: float, top: float, bottom: float, width: float) -> Image | None:
    x1, x2 = round(centre_x - width / 2), round(centre_x + width / 2)
    y1, y2 = round(top), round(bottom)
    height, image_width = rgb.shape[:2]
    if x1 < 0 or y1 < 0 or x2 > image_width or y2 > height or x2 - x1 < 8 or y2 - y1 < 8:
        return None
    return np.ascontiguousarray(rgb[y1:y2, x1:x2])


def brow_chin(rgb: Image, landmarks: Points) -> Image | None:
    eyes, mouth, d = _axis(landmarks)
    top, bottom = eyes[1] - BROW * d, mouth[1] + CHIN * d
    crop = _cut(rgb, float((eyes[0] + mouth[0]) / 2), top, bottom, (bottom - top) * BROW_CHIN_ASPECT)
    if crop is None:
        return None
    gray = cv2.cvtColor(cv2.resize(crop, (168, 192), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def face_box(margin: float) -> Callable[[Image, Points], Image | None]:
    def make(rgb: Image, landmarks: Points) -> Image | None:
        eyes, mouth, d = _axis(landmarks)
        top, bottom = eyes[1] - BROW * d, mouth[1] + CHIN * d
        height = bottom - top
        extra = margin * height
        crop = _cut(
            rgb, float((eyes[0] + mouth[0]) / 2), top - extra, bottom + extra, height * 0.9 + 2 * extra
        )
        if crop is None:
            return None
        scale = 160 / crop.shape[0]
        size = (max(8, round(crop.shape[1] * scale)), 160)
        return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)

    return make


def aligned_112(rgb: Image, landmarks: Points) -> Image | None:
    return align_face(rgb, np.asarray(landmarks, dtype=np.float64), (112, 112))


CROP_KINDS = (
    CropKind("brow_chin", "cut at brow and chin, 168x192 grayscale", brow_chin),
    CropKind("face_box_0", "face box, no margin, colour, 160 px tall", face_box(0.0)),
    CropKind("face_box_10", "face box + 10% each side", face_box(0.10)),
    CropKind("face_box_25", "face box + 25% each side", face_box(0.25)),
    CropKind("aligned_112", "ArcFace-aligned 112x112", aligned_112),
)
