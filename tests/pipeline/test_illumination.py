"""The illumination step on real photos: a dark copy the detector misses is found with
FRS_ILLUMINATION=detect, and a normal photo is left as it was."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.evaluation.degraded.conditions import Condition, degrade, read_rgb
from frs.pipeline.analyzer import load_analyzer
from frs.pipeline.illumination import brighten, is_dark


def test_brighten_lifts_a_dark_frame_and_keeps_its_shape(testdata: Path) -> None:
    rgb = read_rgb((testdata / "person_a_1.jpg").read_bytes())
    dark = (rgb * 0.05).astype(np.uint8)
    assert is_dark(dark) and not is_dark(rgb)
    lifted = brighten(dark)
    assert lifted.shape == dark.shape and lifted.dtype == np.uint8
    assert not is_dark(lifted)


def test_detect_mode_finds_a_face_in_a_dark_copy_with_the_same_embedding_path(
    open_settings: Settings, testdata: Path
) -> None:
    data = (testdata / "person_a_1.jpg").read_bytes()
    dark = degrade(Condition("x0.04", brightness=0.04), data, "person_a_1")
    off = load_analyzer(dataclasses.replace(open_settings, illumination="off"))
    on = load_analyzer(dataclasses.replace(open_settings, illumination="detect"))
    assert off.analyze(dark).faces == []
    faces = on.analyze(dark).faces
    assert len(faces) == 1 and faces[0].embedding is not None
    # A normal photo never takes the second look: the same face, the same embedding.
    plain_off, plain_on = off.analyze(data).faces, on.analyze(data).faces
    assert len(plain_off) == len(plain_on) == 1
    assert plain_off[0].embedding is not None and plain_on[0].embedding is not None
    assert np.array_equal(plain_off[0].embedding, plain_on[0].embedding)


def test_an_unknown_mode_is_misconfigured() -> None:
    with pytest.raises(FRSError) as caught:
        Settings.from_env({"FRS_ILLUMINATION": "always"})
    assert caught.value.code == "misconfigured" and "FRS_ILLUMINATION" in str(caught.value)
