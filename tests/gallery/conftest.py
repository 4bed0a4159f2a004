"""Fixtures for the gallery tests: a real S3 endpoint (moto on 127.0.0.1, or FRS_TEST_S3_ENDPOINT), fresh
buckets, settings, and deterministic synthetic faces (the gallery never sees images, only embeddings)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.packs.info import PackInfo
from harness.s3 import S3Endpoint
from tests.gallery.synthetic import TEST_PACK, FaceMaker


@pytest.fixture
def faces() -> FaceMaker:
    return FaceMaker()


@pytest.fixture
def pack() -> PackInfo:
    return TEST_PACK


@pytest.fixture
def s3_env(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> S3Endpoint:
    """Point boto3 (and so FRS) at the test endpoint through the environment, as in production."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FRS_S3_MAX_ATTEMPTS", "2")  # fail fast when a test makes S3 unreachable
    return s3_endpoint


@pytest.fixture
def s3_bucket(s3_env: S3Endpoint) -> str:
    """A fresh bucket per test."""
    return s3_env.create_bucket()


@pytest.fixture
def gallery_settings(s3_bucket: str, tmp_path: Path) -> Settings:
    """Settings for an S3 gallery in a fresh bucket, revalidating on every read (sync_ttl=0)."""
    return Settings(gallery_uri=f"s3://{s3_bucket}/galleries", cache_dir=tmp_path / "cache", sync_ttl=0.0)


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Settings for a gallery in a local directory, revalidating on every read (sync_ttl=0)."""
    return Settings(gallery_uri=str(tmp_path / "galleries"), cache_dir=tmp_path / "cache", sync_ttl=0.0)


@pytest.fixture(autouse=True)
def _fresh_gallery_objects() -> Iterator[None]:
    yield
    clear_gallery_cache()
