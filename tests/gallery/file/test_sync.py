"""SyncedGallery on both file transports (local directory and S3 via a real moto server): what syncing adds.

Everything the Gallery interface promises is in tests/gallery/test_contract.py, over every backend.
"""

from __future__ import annotations

import dataclasses

import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.types import Gallery, NewFace
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker


@pytest.fixture(params=["local", "s3"])
def backend_settings(request: pytest.FixtureRequest) -> Settings:
    fixture = "local_settings" if request.param == "local" else "gallery_settings"
    value: Settings = request.getfixturevalue(fixture)
    return value


@pytest.fixture
def gallery(backend_settings: Settings) -> Gallery:
    return open_gallery("people", backend_settings)


def test_search_sees_own_writes_without_waiting(
    backend_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery = open_gallery("people", dataclasses.replace(backend_settings, sync_ttl=3600))
    gallery.add_face("A", faces.face("a"), pack=pack)
    assert gallery.search(faces.embedding("a")[None, :], pack=pack, top_k=1)[0][0].name == "A"
    gallery.add_face("B", faces.face("b"), pack=pack)
    assert gallery.search(faces.embedding("b")[None, :], pack=pack, top_k=1)[0][0].name == "B"


def test_failed_write_changes_nothing(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("A", faces.face("a"), pack=pack)
    assert isinstance(gallery, SyncedGallery)
    before = gallery.refresh()
    batch: list[tuple[str, NewFace, dict[str, object] | None]] = [
        ("B", faces.face("b"), None),
        ("C", faces.face("c", dim=32), None),  # invalid: the whole batch is refused
    ]
    with pytest.raises(FRSError):
        gallery.add_faces(batch, pack=pack)
    assert gallery.refresh() == before
    assert [i.name for i in gallery.list().identities] == ["A"]
