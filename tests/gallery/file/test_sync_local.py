"""Galleries in a local directory: the same compare-and-swap semantics as S3, across real processes."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.file.transports.local import LocalTransport
from frs.gallery.file.transports.protocol import PreconditionFailed
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from tests.gallery.file.workers import start_worker, wait_for
from tests.gallery.synthetic import FaceMaker
from tests.support.tmpfs import tiny_tmpfs


def names_in(gallery: Gallery) -> list[str]:
    return [i.name for i in gallery.list(page_size=1000).identities]


def test_transport_compare_and_swap(tmp_path: Path) -> None:
    transport = LocalTransport(tmp_path / "g")
    source = tmp_path / "v1"
    source.write_bytes(b"one")
    assert transport.fetch("x.sqlite", tmp_path / "out", None).status == "missing"
    etag1 = transport.put("x.sqlite", source, None)
    with pytest.raises(PreconditionFailed):
        transport.put("x.sqlite", source, None)  # must not exist yet
    source.write_bytes(b"two")
    etag2 = transport.put("x.sqlite", source, etag1)
    assert etag2 != etag1
    with pytest.raises(PreconditionFailed):
        transport.put("x.sqlite", source, etag1)  # stale base version
    assert transport.fetch("x.sqlite", tmp_path / "out", etag2).status == "not_modified"
    fetched = transport.fetch("x.sqlite", tmp_path / "out", etag1)
    assert (fetched.status, fetched.etag) == ("downloaded", etag2)
    assert (tmp_path / "out").read_bytes() == b"two"
    assert transport.list_keys() == ["x.sqlite"]


def test_stale_local_writer_reapplies_its_change(tmp_path: Path, faces: FaceMaker, pack: PackInfo) -> None:
    transport = LocalTransport(tmp_path / "g")
    one = SyncedGallery("people", transport, tmp_path / "c1", sync_ttl=3600)
    two = SyncedGallery("people", transport, tmp_path / "c2", sync_ttl=3600)
    one.add_face("A", faces.face("a"), pack=pack)
    two.add_face("B", faces.face("b"), pack=pack)
    one.add_face("C", faces.face("c"), pack=pack)
    two.refresh()
    assert names_in(two) == ["A", "B", "C"]


def test_a_stale_expiry_update_is_replayed_on_the_winner(
    tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    transport = LocalTransport(tmp_path / "g")
    one = SyncedGallery("people", transport, tmp_path / "c1", sync_ttl=3600)
    two = SyncedGallery("people", transport, tmp_path / "c2", sync_ttl=3600)
    one.add_face("A", faces.face("a"), pack=pack, metadata={"k": 1})
    two.refresh()
    one.update_metadata("A", {"won": True}, "merge")  # two's copy is now stale
    updated = two.update_metadata("A", None, "merge", expires_at="2099-01-01T00:00:00.000Z")
    assert two.lost_races == 1  # its first upload lost; the change was re-applied to one's version
    assert updated.metadata == {"k": 1, "won": True} and updated.expires_at == "2099-01-01T00:00:00.000Z"
    one.refresh()
    assert one.get("A").expires_at == "2099-01-01T00:00:00.000Z"
    cleared = one.update_metadata("A", {"won": None}, "merge", expires_at=None)
    assert (cleared.metadata, cleared.expires_at) == ({"k": 1}, None)


def test_concurrent_local_processes_lose_no_update(tmp_path: Path) -> None:
    directory = tmp_path / "galleries"
    go = tmp_path / "go"
    expected = {f"p{p}-{i}" for p in range(3) for i in range(10)}
    processes = [
        start_worker(
            str(directory),
            tmp_path / f"cache{p}",
            [f"p{p}-{i}" for i in range(10)],
            *("--ready", str(tmp_path / f"ready{p}"), "--go", str(go)),
        )
        for p in range(3)
    ]
    try:
        for p, process in enumerate(processes):
            wait_for(tmp_path / f"ready{p}", process)  # a worker that never gets ready fails the test
    except AssertionError:
        for process in processes:
            process.kill()
        raise
    go.write_text("go")  # all three start writing at the same moment
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{out}\n{err}"
        assert json.loads(out.strip().splitlines()[-1])["error"] is None
    conn = sqlite3.connect(f"file:{directory / 'people.sqlite'}?mode=ro", uri=True)
    assert {row[0] for row in conn.execute("SELECT name FROM identities")} == expected
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    leftovers = [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_unusable_local_file_is_refused_and_kept(
    local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    directory = Path(local_settings.gallery_uri)
    directory.mkdir(parents=True)
    target = directory / "people.sqlite"
    content = b"SQLite format 3\x00" + b"\xff" * 4000  # right magic, garbage after it
    target.write_bytes(content)
    gallery = open_gallery("people", local_settings)
    for call in (gallery.list, lambda: gallery.add_face("A", faces.face("a"), pack=pack)):
        with pytest.raises(FRSError) as err:
            call()
        assert err.value.code == "storage_misconfigured"
    assert target.read_bytes() == content


def test_cold_start_reuses_the_copy_left_on_disk(
    local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    first = open_gallery("people", local_settings)
    first.add_face("A", faces.face("a"), pack=pack)
    cached = sorted(local_settings.cache_dir.rglob("*.sqlite"))
    assert len(cached) == 1
    inode = cached[0].stat().st_ino

    transport = LocalTransport(Path(local_settings.gallery_uri))
    cache = cached[0].parent.parent
    second = SyncedGallery("people", transport, cache, sync_ttl=0)
    assert names_in(second) == ["A"]
    assert cached[0].stat().st_ino == inode  # revalidated (not modified), not downloaded again


def test_unwritable_directory_is_misconfiguration(local_settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    settings = dataclasses.replace(local_settings, gallery_uri=str(blocker / "galleries"))
    with pytest.raises(FRSError) as err:
        open_gallery("people", settings)
    assert err.value.code == "storage_misconfigured"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a really full disk (needs root; skipped where mounting is not allowed)."""
    with tiny_tmpfs(tmp_path) as mount_point:
        yield mount_point


def test_full_local_disk_is_insufficient_storage(
    tiny_disk: Path, local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    settings = dataclasses.replace(local_settings, cache_dir=tiny_disk)
    gallery = open_gallery("people", settings)
    gallery.add_face("small", faces.face("small"), pack=pack)
    batch = [(f"person-{i:04d}", faces.face(f"f{i}"), {"pad": "x" * 400}) for i in range(1500)]
    with pytest.raises(FRSError) as err:
        gallery.add_faces(batch, pack=pack)  # type: ignore[arg-type]
    assert err.value.code == "insufficient_storage"
    assert names_in(gallery) == ["small"]  # the shared file is untouched
    assert not [p for p in tiny_disk.rglob("*.tmp")]  # no half-written temp files left behind


def test_full_disk_while_caching_a_download(
    tiny_disk: Path, local_settings: Settings, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    writer = open_gallery("people", local_settings)
    writer.add_faces(
        [(f"person-{i:04d}", faces.face(f"f{i}"), {"pad": "x" * 400}) for i in range(1500)], pack=pack
    )
    assert (tmp_path / "galleries" / "people.sqlite").stat().st_size > 1024 * 1024
    reader = open_gallery("people", dataclasses.replace(local_settings, cache_dir=tiny_disk))
    with pytest.raises(FRSError) as err:
        reader.get("person-0001")
    assert err.value.code == "insufficient_storage"
    assert not [p for p in tiny_disk.rglob("*") if p.is_file()]
