"""Clip decoding with OpenCV (its wheel bundles FFmpeg) and sampling at ``FRS_VIDEO_FPS``, within limits.

Limits, all checked before the expensive work and answered with a documented error, never a timeout:

* ``FRS_MAX_CLIP_BYTES`` (default 100 MiB): checked from the event and the object's size before download
  (``clip_too_large``); the clip is downloaded to a temporary file in ``/tmp`` (deleted afterwards).
* :data:`MAX_CLIP_PIXELS` (3840x2160): a larger frame size is ``clip_too_large`` (one decoded 4K frame is
  25 MB; frames are decoded one at a time).
* ``FRS_MAX_CLIP_SECONDS``: the duration the container declares (frames / frame rate) is checked before
  decoding, and the decoded position while decoding, so a lying header cannot run past it
  (``clip_too_long``).

Every frame must be decoded (inter-frame codecs), but only sampled frames are converted and analysed:
``grab()`` for each frame, ``retrieve()`` for the samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from frs.errors import FRSError

MAX_CLIP_PIXELS = 3840 * 2160
# An MP4 (ISO base media file) starts with a box: 4 bytes of size, then its type. FFmpeg would also open a
# JPEG or a raw stream named .mp4; a clip must be what its name says.
_MP4_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide"}


def is_mp4(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(8)
    return len(head) == 8 and head[4:8] in _MP4_FIRST_BOXES


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float | None  # the container's frame rate, None if it declares none
    frame_count: int | None
    declared_seconds: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "fps": round(self.fps, 3) if self.fps else None,
            "frames": self.frame_count,
            "duration_s": round(self.declared_seconds, 3) if self.declared_seconds is not None else None,
        }


@dataclass(frozen=True)
class SampledFrame:
    index: int  # frame number in the clip
    time_s: float  # seconds from the clip's start
    bgr: npt.NDArray[np.uint8]  # as decoded (OpenCV's channel order)

    @property
    def rgb(self) -> npt.NDArray[np.uint8]:
        return np.ascontiguousarray(cv2.cvtColor(self.bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


class Clip:
    """An opened clip; iterate :meth:`samples` once. Use as a context manager (releases the decoder)."""

    def __init__(self, path: Path, *, max_seconds: float) -> None:
        self.max_seconds = max_seconds
        if not is_mp4(path):
            raise FRSError("invalid_clip", "the clip is not an MP4 file (no ISO media box at its start)")
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            self._capture.release()
            raise FRSError(
                "invalid_clip", "the clip cannot be opened as a video (not an MP4 OpenCV can read)"
            )
        self.info = self._read_info()
        self._check_limits()

    def __enter__(self) -> Clip:
        return self

    def __exit__(self, *exc: object) -> None:
        self._capture.release()

    def _read_info(self) -> VideoInfo:
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        frames = float(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        known_fps = fps if math.isfinite(fps) and 0 < fps <= 1000 else None
        known_frames = int(frames) if math.isfinite(frames) and frames > 0 else None
        declared = known_frames / known_fps if known_fps and known_frames else None
        return VideoInfo(width, height, known_fps, known_frames, declared)

    def _check_limits(self) -> None:
        info = self.info
        if info.width * info.height > MAX_CLIP_PIXELS:
            raise FRSError(
                "clip_too_large",
                f"the clip is {info.width}x{info.height}; frames may have at most 3840x2160 pixels",
            )
        if (
            info.declared_seconds is not None
            and info.declared_seconds > self.max_seconds + self._frame_time()
        ):
            raise self._too_long(info.declared_seconds)

    def _frame_time(self) -> float:
        return 1.0 / self.info.fps if self.info.fps else 0.0

    def _too_long(self, seconds: float) -> FRSError:
        return FRSError(
            "clip_too_long",
            f"the clip lasts {seconds:.1f} s; FRS_MAX_CLIP_SECONDS allows {self.max_seconds:g} s "
            "(split longer recordings into clips)",
        )

    def samples(self, per_second: float) -> Iterator[SampledFrame]:
        """Frames at ``per_second`` (the first frame, then one per 1/per_second seconds of clip time)."""
        interval = 1.0 / per_second
        next_time = 0.0
        index = -1
        decoded = 0
        while self._capture.grab():
            index += 1
            decoded += 1
            time_s = index / self.info.fps if self.info.fps else self._position()
            if time_s > self.max_seconds + self._frame_time():
                raise self._too_long(time_s)
            # A small tolerance: 30 fps timestamps do not land exactly on a 0.5 s grid.
            if time_s + 1e-6 < next_time:
                continue
            ok, bgr = self._capture.retrieve()
            if not ok or bgr is None:
                continue
            next_time = (math.floor(time_s / interval + 1e-6) + 1) * interval
            yield SampledFrame(index=index, time_s=time_s, bgr=np.asarray(bgr, dtype=np.uint8))
        if decoded == 0:
            raise FRSError("invalid_clip", "the clip has no frame OpenCV can decode")

    def _position(self) -> float:
        return float(self._capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
