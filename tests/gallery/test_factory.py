"""Choosing and caching gallery backends from Settings.gallery_uri."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery import factory
from frs.gallery.factory import list_galleries, make_transport, open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.file.transports.local import LocalTransport
from frs.gallery.file.transports.s3 import S3Transport, parse_s3_uri
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker


def test_local_paths_and_file_urls(local_settings: Settings, tmp_path: Path) -> None:
    for uri in (str(tmp_path / "a"), f"file://{tmp_path / 'b'}"):
        transport = make_transport(uri, local_settings)
        assert isinstance(transport, LocalTransport)
        assert transport.directory.is_dir()


def test_s3_uris(local_settings: Settings) -> None:
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    assert parse_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    transport = make_transport("s3://bucket/team/galleries", local_settings)
    assert isinstance(transport, S3Transport)
    assert transport.describe("people.sqlite") == "s3://bucket/team/galleries/people.sqlite"
    assert S3Transport("bucket", "", transport.client).object_key("people.sqlite") == "people.sqlite"
    with pytest.raises(FRSError) as err:
        parse_s3_uri("s3:///prefix")
    assert err.value.code == "storage_misconfigured"


def test_unknown_scheme_is_misconfiguration(local_settings: Settings) -> None:
    with pytest.raises(FRSError) as err:
        open_gallery("people", dataclasses.replace(local_settings, gallery_uri="ftp://host/dir"))
    assert err.value.code == "storage_misconfigured"


def test_gallery_name_is_validated_first(local_settings: Settings) -> None:
    for name in ("../etc", ".hidden", "a/b", ""):
        with pytest.raises(FRSError) as err:
            open_gallery(name, local_settings)
        assert err.value.code == "bad_request"


def test_gallery_objects_are_cached_per_process(local_settings: Settings, tmp_path: Path) -> None:
    first = open_gallery("people", local_settings)
    assert isinstance(first, SyncedGallery)
    assert open_gallery("people", local_settings) is first
    assert open_gallery("others", local_settings) is not first
    other_place = dataclasses.replace(local_settings, gallery_uri=str(tmp_path / "elsewhere"))
    assert open_gallery("people", other_place) is not first
    # Storage settings make another gallery object; pipeline settings (thresholds, threads) do not.
    assert open_gallery("people", dataclasses.replace(local_settings, ann_min_faces=10)) is not first
    pipeline_only = dataclasses.replace(local_settings, det_threshold=0.7, match_threshold=0.2, threads=1)
    assert open_gallery("people", pipeline_only) is first
    factory.clear_gallery_cache()
    assert open_gallery("people", local_settings) is not first


def test_postgres_uris_dispatch_to_the_pgvector_backend(local_settings: Settings) -> None:
    """A real PostgreSQL (pgserver): both URI spellings open the pgvector backend, cached, with the
    configured ef_search."""
    from frs.gallery.pgvector.store import PgVectorGallery
    from harness.postgres import shared_pg_server

    uri = shared_pg_server().uri
    spellings = (uri, "postgres://" + uri.split("://", 1)[1])
    for spelled in spellings:
        settings = dataclasses.replace(local_settings, gallery_uri=spelled, pg_ef_search=123)
        gallery = open_gallery("people", settings)
        assert isinstance(gallery, PgVectorGallery)
        assert gallery._ef_search == 123
        assert open_gallery("people", settings) is gallery  # cached


def test_list_galleries(
    local_settings: Settings, gallery_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    for settings in (local_settings, gallery_settings):
        assert list_galleries(settings) == []
        open_gallery("beta", settings).add_face("A", faces.face("a"), pack=pack)
        open_gallery("alpha", settings).add_face("A", faces.face("a"), pack=pack)
        assert list_galleries(settings) == ["alpha", "beta"]
