"""The peers of `frs bench` load offline and find the face: FaceAnalysis, face_recognition, SCRFD-2.5G."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageFile

from frs.bench.peers import detect_embed_peers, detector_peer, import_face_recognition
from frs.config import Settings
from frs.errors import FRSError
from frs.pipeline.decode import decode_image


def test_every_peer_finds_the_one_face(open_settings: Settings, testdata: Path) -> None:
    photos = {"one": (testdata / "person_b_1.jpg").read_bytes()}
    peers = detect_embed_peers(photos, runs=1, settings=open_settings)
    assert peers["one"]["faces"] == {"frs": 1, "faceanalysis": 1, "face_recognition": 1}
    assert peers["faceanalysis_models"] == ["scrfd_2.5g_kps.onnx", "sface_2021dec.onnx"]  # YuNet: embedded's
    assert peers["one"]["ratio_vs_faceanalysis"] > 0 and peers["one"]["ratio_vs_face_recognition"] > 0
    detector = detector_peer(photos, runs=1, settings=open_settings)
    assert detector["one"]["faces"] == {"frs": 1, "scrfd_2.5g": 1}
    assert detector["one"]["speedup_vs_scrfd_2.5g"] > 0


def test_importing_face_recognition_leaves_truncated_uploads_refused(testdata: Path) -> None:
    """Regression: face_recognition sets Pillow's LOAD_TRUNCATED_IMAGES on import (a process-wide switch)."""
    import_face_recognition()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = (testdata / "person_b_1.jpg").read_bytes()
    with pytest.raises(FRSError, match="truncated"):
        decode_image(data[: len(data) // 2], max_pixels=40_000_000, max_side=4096)
