"""Synthetic CCTV scenes for tests and benchmarks: real photos pasted on a grey scene, drifting and zooming
a little per frame, written with OpenCV's VideoWriter (MPEG-4 in an .mp4, through the FFmpeg of the wheel)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SCENE = (640, 480)  # width, height


@dataclass(frozen=True)
class Segment:
    photo: Path
    seconds: float


def _scene_with(photo: np.ndarray, frame: int, height: int, size: tuple[int, int]) -> np.ndarray:
    scene = np.full((size[1], size[0], 3), 90, dtype=np.uint8)
    # A slow drift and breathing zoom: the kind of motion a person standing in view makes.
    scale = height * (1.0 + 0.08 * math.sin(frame / 7.0)) / photo.shape[0]
    resized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = resized.shape[:2]
    x = int((size[0] - w) / 2 + 30 * math.sin(frame / 11.0))
    y = int((size[1] - h) / 2 + 10 * math.cos(frame / 13.0))
    x, y = max(0, min(size[0] - w, x)), max(0, min(size[1] - h, y))
    scene[y : y + h, x : x + w] = resized
    return scene


def scene_frame(
    photo: Path, *, index: int = 0, face_height: int = 300, size: tuple[int, int] = SCENE
) -> np.ndarray:
    """One BGR frame of the scene with ``photo`` in it (frame ``index`` of its drift)."""
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    assert image is not None, photo
    return _scene_with(image, index, face_height, size)


def write_clip(
    path: Path,
    segments: list[Segment],
    *,
    fps: float = 10.0,
    face_height: int = 300,
    size: tuple[int, int] = SCENE,
) -> Path:
    """An .mp4 at ``fps`` showing each segment's photo for its seconds, one after the other."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write MPEG-4 here")
    frame = 0
    try:
        for segment in segments:
            photo = cv2.imread(str(segment.photo), cv2.IMREAD_COLOR)
            assert photo is not None, segment.photo
            for _ in range(round(segment.seconds * fps)):
                writer.write(_scene_with(photo, frame, face_height, size))
                frame += 1
    finally:
        writer.release()
    return path
