"""Galleries on S3 (a real moto server on 127.0.0.1, or FRS_TEST_S3_ENDPOINT): concurrency, crashes, outages,
foreign objects, conditional GETs and secure deletion."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import cache_root, open_gallery
from frs.gallery.file.store import APPLICATION_ID
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.file.transports.protocol import PreconditionFailed
from frs.gallery.file.transports.s3 import S3Transport
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from harness.s3 import S3Endpoint, TcpProxy
from tests.gallery.file.workers import start_worker, wait_for
from tests.gallery.synthetic import FaceMaker

PREFIX = "galleries"
KEY = f"{PREFIX}/people.sqlite"


def raw_object(endpoint: S3Endpoint, bucket: str) -> bytes:
    body: bytes = endpoint.client().get_object(Bucket=bucket, Key=KEY)["Body"].read()
    return body


def all_names(gallery: Gallery) -> list[str]:
    found: list[str] = []
    token = None
    while True:
        page = gallery.list(page_size=1000, page_token=token)
        found.extend(i.name for i in page.identities)
        token = page.next_page_token
        if token is None:
            return found


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def get_statuses(s3_client: Any) -> Iterator[list[int]]:
    """HTTP status of every GetObject FRS's own S3 client makes during the test."""
    statuses: list[int] = []

    def record(http_response: Any, **_: Any) -> None:
        statuses.append(int(http_response.status_code))

    client = s3_client
    client.meta.events.register("after-call.s3.GetObject", record)
    yield statuses
    client.meta.events.unregister("after-call.s3.GetObject", record)


def test_the_s3_server_enforces_conditional_requests(s3_env: S3Endpoint, s3_bucket: str) -> None:
    client = s3_env.client()
    etag = client.put_object(Bucket=s3_bucket, Key="k", Body=b"v1", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as err:
        client.put_object(Bucket=s3_bucket, Key="k", Body=b"v2", IfNoneMatch="*")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as err:
        client.put_object(Bucket=s3_bucket, Key="k", Body=b"v2", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    new_etag = client.put_object(Bucket=s3_bucket, Key="k", Body=b"v2", IfMatch=etag)["ETag"]
    assert new_etag != etag
    with pytest.raises(ClientError) as err:
        client.get_object(Bucket=s3_bucket, Key="k", IfNoneMatch=new_etag)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert client.get_object(Bucket=s3_bucket, Key="k", IfNoneMatch=etag)["Body"].read() == b"v2"


def test_concurrent_writer_processes_lose_no_update(
    s3_env: S3Endpoint,
    s3_bucket: str,
    gallery_settings: Settings,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    uri = gallery_settings.gallery_uri
    go = tmp_path / "go"
    expected = {f"w{w}-{i:02d}" for w in range(6) for i in range(20)}
    processes = [
        start_worker(
            uri,
            tmp_path / "cache",
            [f"w{w}-{i:02d}" for i in range(20)],
            *("--ready", str(tmp_path / f"ready-{w}"), "--go", str(go)),
        )
        for w in range(6)
    ]
    for w, process in enumerate(processes):
        wait_for(tmp_path / f"ready-{w}", process)
    go.write_text("go")  # all six start writing at the same moment
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{out}\n{err}"
        assert json.loads(out.strip().splitlines()[-1])["error"] is None

    local = tmp_path / "final.sqlite"
    local.write_bytes(raw_object(s3_env, s3_bucket))
    conn = sqlite3.connect(f"file:{local}?mode=ro", uri=True)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {row[0] for row in conn.execute("SELECT name FROM identities")} == expected
    assert conn.execute("SELECT COUNT(*) FROM faces").fetchone()[0] == 120
    conn.close()
    gallery = open_gallery("people", dataclasses.replace(gallery_settings, cache_dir=tmp_path / "reader"))
    assert set(all_names(gallery)) == expected
    assert gallery.search(faces.embedding("w3-07")[None, :], pack=pack, top_k=1)[0][0].name == "w3-07"


def test_writer_killed_before_upload_leaves_previous_version(
    s3_env: S3Endpoint,
    gallery_settings: Settings,
    s3_bucket: str,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    gallery = open_gallery("people", gallery_settings)
    gallery.add_face("before", faces.face("before"), pack=pack)
    previous = raw_object(s3_env, s3_bucket)

    marker = tmp_path / "prepared"
    victim = start_worker(
        gallery_settings.gallery_uri,
        tmp_path / "victim-cache",
        ["victim"],
        "--pause-before-upload",
        str(marker),
    )
    try:
        wait_for(marker, victim)
        assert Path(marker.read_text()).exists()  # the new version was fully prepared
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    assert raw_object(s3_env, s3_bucket) == previous
    reader = open_gallery("people", dataclasses.replace(gallery_settings, cache_dir=tmp_path / "r"))
    assert all_names(reader) == ["before"]
    gallery.add_face("after", faces.face("after"), pack=pack)
    assert all_names(gallery) == ["after", "before"]


def test_s3_unreachable_then_back(
    s3_env: S3Endpoint, gallery_settings: Settings, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    target = urlparse(s3_env.url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 80)
    proxy.start()
    settings = dataclasses.replace(gallery_settings, aws_endpoint_url=proxy.url)
    try:
        gallery = open_gallery("people", settings)
        gallery.add_face("A", faces.face("a"), pack=pack)
        cached = {p: p.read_bytes() for p in (tmp_path / "cache").rglob("*.sqlite")}
        assert len(cached) == 1

        proxy.stop()
        for call in (
            lambda: gallery.get("A"),
            lambda: gallery.search(faces.embedding("a")[None, :], pack=pack, top_k=1),
            lambda: gallery.add_face("B", faces.face("b"), pack=pack),
        ):
            with pytest.raises(FRSError) as err:
                call()
            assert err.value.code == "storage_unavailable"
        cold = open_gallery("people", dataclasses.replace(settings, cache_dir=tmp_path / "cold"))
        with pytest.raises(FRSError) as err:
            cold.get("A")
        assert err.value.code == "storage_unavailable"
        assert {p: p.read_bytes() for p in (tmp_path / "cache").rglob("*.sqlite")} == cached

        proxy.start()  # same port: S3 is back
        assert gallery.get("A").face_count == 1
        gallery.add_face("B", faces.face("b"), pack=pack)
        assert all_names(gallery) == ["A", "B"]
        assert all_names(cold) == ["A", "B"]
    finally:
        proxy.stop()


def test_missing_bucket_is_misconfiguration(gallery_settings: Settings) -> None:
    settings = dataclasses.replace(gallery_settings, gallery_uri="s3://frs-no-such-bucket-7f3a/g")
    with pytest.raises(FRSError) as err:
        open_gallery("people", settings).get("A")
    assert err.value.code == "storage_misconfigured"
    assert "bucket does not exist" in err.value.message


def _foreign_sqlite(path: Path) -> bytes:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('not a gallery')")
    conn.commit()
    conn.close()
    return path.read_bytes()


def _newer_schema(path: Path, settings: Settings, faces: FaceMaker, pack: PackInfo) -> bytes:
    local = open_gallery("source", dataclasses.replace(settings, gallery_uri=str(path.parent / "src")))
    local.add_face("A", faces.face("a"), pack=pack)
    conn = sqlite3.connect(path.parent / "src" / "source.sqlite")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    return (path.parent / "src" / "source.sqlite").read_bytes()


@pytest.mark.parametrize("kind", ["not-sqlite", "empty-object", "foreign-sqlite", "newer-schema"])
def test_unusable_object_is_refused_and_never_overwritten(
    kind: str,
    s3_env: S3Endpoint,
    s3_bucket: str,
    gallery_settings: Settings,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    if kind == "not-sqlite":
        content = b"PK\x03\x04 this is a zip file, not a gallery" * 50
    elif kind == "empty-object":
        content = b""
    elif kind == "foreign-sqlite":
        content = _foreign_sqlite(tmp_path / "foreign.db")
    else:
        content = _newer_schema(tmp_path / "x", gallery_settings, faces, pack)
    s3_env.client().put_object(Bucket=s3_bucket, Key=KEY, Body=content)
    gallery = open_gallery("people", gallery_settings)
    for call in (
        lambda: gallery.get("A"),
        lambda: gallery.add_face("B", faces.face("b"), pack=pack),
        lambda: gallery.delete_identity("A"),
    ):
        with pytest.raises(FRSError) as err:
            call()
        assert err.value.code == "storage_misconfigured"
    if kind == "newer-schema":
        assert "schema version 99" in err.value.message
    assert raw_object(s3_env, s3_bucket) == content


def test_conditional_get_and_ttl(
    s3_bucket: str,
    s3_client: Any,
    gallery_settings: Settings,
    tmp_path: Path,
    get_statuses: list[int],
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    transport = S3Transport(s3_bucket, PREFIX, s3_client)
    settings = gallery_settings
    writer = SyncedGallery("people", transport, tmp_path / "writer-cache", sync_ttl=0)
    writer.add_face("A", faces.face("a"), pack=pack)

    clock = FakeClock()
    reader = SyncedGallery("people", transport, cache_root(settings), sync_ttl=10, clock=clock)
    get_statuses.clear()
    assert reader.get("A").face_count == 1
    assert get_statuses == [200]  # cold start downloads
    clock.now += 5
    reader.get("A")
    reader.list()
    assert get_statuses == [200]  # within the TTL: no request at all

    second = SyncedGallery("people", transport, cache_root(settings), sync_ttl=10, clock=clock)
    assert second.get("A").face_count == 1
    assert get_statuses == [200, 304]  # a second reader revalidates the copy on disk instead of downloading

    clock.now += 6
    reader.get("A")
    assert get_statuses == [200, 304, 304]  # TTL passed, unchanged: 304 keeps the cache

    writer.add_face("B", faces.face("b"), pack=pack)
    clock.now += 1
    with pytest.raises(FRSError):
        reader.get("B")  # within the TTL the reader may be stale...
    clock.now += 10
    assert reader.get("B").face_count == 1  # ...and sees the change once the TTL has passed
    assert get_statuses[-1] == 200
    assert [c.name for c in reader.search(faces.embedding("b")[None, :], pack=pack, top_k=1)[0]] == ["B"]


def test_matcher_is_reused_until_the_version_changes(
    gallery_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery = open_gallery("people", gallery_settings)
    assert isinstance(gallery, SyncedGallery)
    gallery.add_face("A", faces.face("a"), pack=pack)
    query = faces.embedding("a")[None, :]
    gallery.search(query, pack=pack, top_k=1)
    first = gallery._version.matcher if gallery._version else None
    gallery.search(query, pack=pack, top_k=1)
    assert first is not None and gallery._version is not None and gallery._version.matcher is first
    assert open_gallery("people", gallery_settings) is gallery  # warm invocations get the same object
    gallery.add_face("B", faces.face("b"), pack=pack)
    gallery.search(query, pack=pack, top_k=1)
    assert gallery._version.matcher is not first


def test_stale_writer_reapplies_its_change(
    s3_bucket: str, s3_client: Any, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    transport = S3Transport(s3_bucket, PREFIX, s3_client)
    one = SyncedGallery("people", transport, tmp_path / "c1", sync_ttl=3600)
    two = SyncedGallery("people", transport, tmp_path / "c2", sync_ttl=3600)
    one.add_face("A", faces.face("a"), pack=pack)
    two.add_face("B", faces.face("b"), pack=pack)  # cold: based on A
    one.add_face("C", faces.face("c"), pack=pack)  # stale (knows only A): 412, re-read, re-apply
    assert all_names(two) == ["A", "B"]  # two's cache is still within its TTL
    two.refresh()
    assert all_names(two) == ["A", "B", "C"]

    impatient = SyncedGallery("people", transport, tmp_path / "c3", sync_ttl=3600, max_write_attempts=1)
    impatient.get("A")
    one.add_face("D", faces.face("d"), pack=pack)
    with pytest.raises(FRSError) as err:
        impatient.add_face("E", faces.face("e"), pack=pack)
    assert err.value.code == "conflict"
    impatient.add_face("E", faces.face("e"), pack=pack)  # the failed attempt refreshed its cache
    assert all_names(one) == ["A", "B", "C", "D"]
    one.refresh()
    assert all_names(one) == ["A", "B", "C", "D", "E"]


class LostAnswerTransport(S3Transport):
    """S3 stores the upload, but the answer is lost and the retry sees 412 (as after a timeout)."""

    def put(self, key: str, source: Path, if_match: str | None) -> str:
        super().put(key, source, if_match)
        raise PreconditionFailed("answer lost")


def test_writer_recognises_its_own_upload_after_a_lost_answer(
    s3_bucket: str, s3_client: Any, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    transport = LostAnswerTransport(s3_bucket, PREFIX, s3_client)
    gallery = SyncedGallery("people", transport, tmp_path / "c", sync_ttl=0)
    result = gallery.add_face("A", faces.face("a"), pack=pack)
    assert result.created
    deleted = gallery.delete_identity("A")  # applying it twice would raise not_found
    assert deleted == [result.face_id]


def test_delete_removes_embedding_bytes_from_the_object(
    s3_env: S3Endpoint, s3_bucket: str, gallery_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery = open_gallery("people", gallery_settings)
    gone_face = gallery.add_face("gone", faces.face("g1"), pack=pack)
    gallery.add_face("gone", faces.face("g2"), pack=pack)
    gallery.add_face("kept", faces.face("k"), pack=pack)
    gallery.add_face("half", faces.face("h1"), pack=pack)
    half = gallery.add_face("half", faces.face("h2"), pack=pack)
    vectors = {key: faces.embedding(key).astype("<f4").tobytes() for key in ("g1", "g2", "k", "h1", "h2")}
    before = raw_object(s3_env, s3_bucket)
    assert all(v in before for v in vectors.values())

    gallery.delete_identity("gone")
    gallery.delete_face(half.face_id)
    after = raw_object(s3_env, s3_bucket)
    assert vectors["g1"] not in after and vectors["g2"] not in after and vectors["h2"] not in after
    assert vectors["k"] in after and vectors["h1"] in after
    for cached in gallery_settings.cache_dir.rglob("*"):
        if cached.is_file():
            assert vectors["g1"] not in cached.read_bytes(), cached
    with pytest.raises(FRSError):
        gallery.delete_face(gone_face.face_id)


def test_object_is_a_plain_frs_sqlite_file(
    s3_env: S3Endpoint,
    s3_bucket: str,
    gallery_settings: Settings,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    open_gallery("people", gallery_settings).add_face("A", faces.face("a"), pack=pack)
    head = s3_env.client().head_object(Bucket=s3_bucket, Key=KEY)
    assert head["ContentType"] == "application/vnd.sqlite3"
    local = tmp_path / "copy.sqlite"
    local.write_bytes(raw_object(s3_env, s3_bucket))
    conn = sqlite3.connect(local)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0  # compacted before upload
    conn.close()
