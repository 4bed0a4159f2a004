"""Pack manifests: the bundled ones are valid, preprocessing is explicit, bad manifests are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frs.errors import FRSError
from frs.packs.manifest import known_packs, load_manifest, weight_path


def test_bundled_packs_load(tmp_path: Path) -> None:
    assert {"embedded", "buffalo_l", "buffalo_s"} <= set(known_packs(tmp_path))
    embedded = load_manifest("embedded", tmp_path)
    assert embedded.recognizer.dim == 128
    assert embedded.recognizer.repair
    assert embedded.detector.input_size == (640, 640)
    buffalo = load_manifest("buffalo_l", tmp_path)
    assert buffalo.recognizer.mean == (127.5,) * 3 and buffalo.recognizer.std == (127.5,) * 3
    assert buffalo.artifacts["buffalo_l-zip"].sha256 == (
        "80ffe37d8a5940d59a7384c201a2a38d4741f2f3c51eef46ebb28218a7b0ca2f"
    )
    assert "non-commercial" in buffalo.licence


def test_detector_can_be_borrowed_from_another_pack(tmp_path: Path) -> None:
    manifest = {
        "name": "mine",
        "detector": {"from_pack": "embedded"},
        "recognizer": {
            "file": "r.onnx",
            "input_size": [112, 112],
            "mean": [127.5, 127.5, 127.5],
            "std": 127.5,
            "color": "BGR",
            "dim": 512,
            "match_threshold": 0.3,
        },
    }
    (tmp_path / "mine.json").write_text(json.dumps(manifest))
    pack = load_manifest("mine", tmp_path)
    assert pack.detector.file == load_manifest("embedded", tmp_path).detector.file
    assert weight_path(pack, pack.detector, tmp_path) == tmp_path / "embedded" / pack.detector.file
    assert weight_path(pack, pack.recognizer, tmp_path) == tmp_path / "mine" / "r.onnx"
    assert pack.recognizer.color == "BGR"


@pytest.mark.parametrize(
    "recognizer",
    [
        {"file": "r.onnx", "input_size": [112, 112], "dim": 512},  # no threshold
        {"file": "r.onnx", "input_size": [112, 112], "dim": 512, "match_threshold": 0.3, "color": "HSV"},
        {"file": "r.onnx", "input_size": [112, 112], "dim": 512, "match_threshold": 0.3, "mean": [1, 2]},
    ],
)
def test_malformed_manifests_are_refused(tmp_path: Path, recognizer: dict[str, object]) -> None:
    (tmp_path / "bad.json").write_text(
        json.dumps({"name": "bad", "detector": {"from_pack": "embedded"}, "recognizer": recognizer})
    )
    with pytest.raises(FRSError) as caught:
        load_manifest("bad", tmp_path)
    assert caught.value.code == "model_unavailable"


def test_unknown_and_unsafe_pack_names(tmp_path: Path) -> None:
    with pytest.raises(FRSError, match="unknown model pack"):
        load_manifest("nope", tmp_path)
    with pytest.raises(FRSError, match="invalid pack name"):
        load_manifest("../etc", tmp_path)
