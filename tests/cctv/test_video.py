"""Clip decoding: sampling at the configured rate, and the limits, on clips written here with OpenCV."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from frs.cctv.video import Clip
from frs.errors import FRSError


def _clip(path: Path, seconds: float, fps: float = 10.0, size: tuple[int, int] = (160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    for index in range(round(seconds * fps)):
        frame = np.full((size[1], size[0], 3), index % 255, dtype=np.uint8)
        writer.write(frame)
    writer.release()
    return path


@pytest.mark.parametrize(("per_second", "expected"), [(2, 12), (1, 6), (5, 30), (30, 60), (0.5, 3)])
def test_frames_are_sampled_at_the_configured_rate(tmp_path: Path, per_second: float, expected: int):
    with Clip(_clip(tmp_path / "c.mp4", 6.0), max_seconds=10) as clip:
        samples = list(clip.samples(per_second))
        assert clip.info.fps == 10.0 and clip.info.frame_count == 60
    assert len(samples) == expected
    assert samples[0].time_s == 0.0
    gaps = {round(b.time_s - a.time_s, 3) for a, b in itertools.pairwise(samples)}
    assert gaps == {round(max(1 / per_second, 0.1), 3)}
    assert samples[0].rgb.shape == (120, 160, 3)


def test_a_clip_declaring_more_than_the_limit_is_refused_before_decoding(tmp_path: Path):
    path = _clip(tmp_path / "c.mp4", 6.0)
    with pytest.raises(FRSError) as raised:
        Clip(path, max_seconds=5.0)
    assert raised.value.code == "clip_too_long" and "6.0 s" in raised.value.message
    with Clip(path, max_seconds=6.0) as clip:  # exactly at the limit is fine
        assert len(list(clip.samples(2))) == 12


def test_frames_larger_than_4k_are_refused(tmp_path: Path):
    path = _clip(tmp_path / "big.mp4", 0.2, fps=5, size=(4096, 2304))
    with pytest.raises(FRSError) as raised:
        Clip(path, max_seconds=10)
    assert raised.value.code == "clip_too_large" and "4096x2304" in raised.value.message


@pytest.mark.parametrize("content", [b"", b"\x00\x00\x00\x18ftypmp42 truncated", b"\xff\xd8\xff\xe0 jpeg"])
def test_what_is_not_a_readable_mp4_is_an_invalid_clip(tmp_path: Path, content: bytes):
    path = tmp_path / "x.mp4"
    path.write_bytes(content)
    with pytest.raises(FRSError) as raised, Clip(path, max_seconds=10) as clip:
        list(clip.samples(2))
    assert raised.value.code == "invalid_clip"
