"""An in-process Lambda application over a fresh local gallery directory per test."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.api.app import Application
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.service import FaceService


@pytest.fixture
def app(local_settings: Settings) -> Iterator[Application]:
    yield Application(FaceService(local_settings))
    clear_gallery_cache()


@pytest.fixture(scope="session")
def photo(testdata: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in testdata.iterdir() if p.suffix in (".jpg", ".png")}


def b64(data: bytes) -> dict[str, str]:
    return {"base64": base64.b64encode(data).decode()}
