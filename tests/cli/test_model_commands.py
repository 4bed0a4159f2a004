"""`frs models list`: every pack, each file's licence and licence text, whether it is commercially usable."""

from __future__ import annotations

import json

import pytest

from frs.cli.main import main


def test_models_list_shows_each_files_licence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    packs = {p["pack"]: p for p in json.loads(capsys.readouterr().out)["packs"]}
    assert packs["open"]["commercial_use"] is True and packs["open"]["detector_kind"] == "yunet"
    assert packs["open"]["recognizer_engine"] == "opencv"
    assert all(packs[name]["commercial_use"] is False for name in ("embedded", "buffalo_l", "buffalo_s"))
    files = {f["role"]: f for f in packs["open"]["files"]}
    assert files["detector"]["licence"].startswith("MIT") and files["recognizer"]["licence"].startswith(
        "Apache"
    )
    assert files["detector"]["present"] is True
    assert files["detector"]["licence_file"].endswith("open/yunet_2023mar.onnx.LICENCE.txt")
    for pack in packs.values():
        assert all(f["licence"] for f in pack["files"]), pack["pack"]
    assert "non-commercial" in {f["role"]: f for f in packs["embedded"]["files"]}["detector"]["licence"]
