"""The peers of `frs bench` load offline and find the face: FaceAnalysis, face_recognition, SCRFD-2.5G."""

from __future__ import annotations

from pathlib import Path

from frs.bench.peers import detect_embed_peers, detector_peer
from frs.config import Settings


def test_every_peer_finds_the_one_face(open_settings: Settings, testdata: Path) -> None:
    photos = {"one": (testdata / "person_b_1.jpg").read_bytes()}
    peers = detect_embed_peers(photos, runs=1, settings=open_settings)
    assert peers["one"]["faces"] == {"frs": 1, "faceanalysis": 1, "face_recognition": 1}
    assert peers["faceanalysis_models"] == ["scrfd_2.5g_kps.onnx", "sface_2021dec.onnx"]  # YuNet: embedded's
    assert peers["one"]["ratio_vs_faceanalysis"] > 0 and peers["one"]["ratio_vs_face_recognition"] > 0
    detector = detector_peer(photos, runs=1, settings=open_settings)
    assert detector["one"]["faces"] == {"frs": 1, "scrfd_2.5g": 1}
    assert detector["one"]["speedup_vs_scrfd_2.5g"] > 0
