"""Identity edits and reading one face, on every backend: rename, merge, move_face, update_metadata.

Each is one atomic write: a refused edit leaves the gallery exactly as it was, and concurrent writers (each
with its own gallery object: its own cache and S3 client, or its own PostgreSQL connection) lose no update.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import is_postgres_uri, make_transport, open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.pgvector.connection import Database
from frs.gallery.pgvector.secret import FixedUri
from frs.gallery.pgvector.store import PgVectorGallery
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from tests.gallery.conftest import BACKENDS, backend_settings
from tests.gallery.synthetic import FaceMaker


def error_code(call: Callable[..., Any], *args: object, **kwargs: object) -> str:
    with pytest.raises(FRSError) as err:
        call(*args, **kwargs)
    return err.value.code


def snapshot(gallery: Gallery) -> list[tuple[str, dict[str, Any], list[str], str | None]]:
    """Everything an edit could change: names, metadata, which faces each identity has, and its expiry."""
    names = [i.name for i in gallery.list(page_size=1000).identities]
    out = []
    for name in names:
        identity = gallery.get(name)
        faces = sorted(f.face_id for f in identity.faces)
        out.append((name, identity.metadata, faces, identity.expires_at))
    return out


def independent(settings: Settings, name: str, cache: Path) -> Gallery:
    """Another writer on the same gallery: its own cache and client (file), its own connection (pg)."""
    if is_postgres_uri(settings.gallery_uri):
        return PgVectorGallery(Database(FixedUri(settings.gallery_uri)), name)
    return SyncedGallery(name, make_transport(settings.gallery_uri, settings), cache, sync_ttl=0)


def test_face_reads_one_face_with_its_embedding(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    face = faces.face("ada-1")
    added = gallery.add_face("Ada", face, pack=pack)
    stored = gallery.face(added.face_id)
    assert stored.record.identity == "Ada" and stored.record.face_id == added.face_id
    assert np.array_equal(stored.embedding, face.embedding)
    assert error_code(gallery.face, str(uuid.uuid4())) == "not_found"
    assert error_code(gallery.face, "not-a-uuid") == "bad_request"


def test_source_and_quality_are_stored(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    base = faces.face("ada-1")
    face = type(base)(
        base.embedding, base.det_score, base.bbox, base.image_sha256, "s3://photos/ada.jpg", 0.75
    )
    added = gallery.add_face("Ada", face, pack=pack)
    record = gallery.get("Ada").faces[0]
    assert (record.source, record.quality) == ("s3://photos/ada.jpg", 0.75)
    assert gallery.face(added.face_id).record.source == "s3://photos/ada.jpg"
    bad = type(base)(base.embedding, 0.9, base.bbox, faces.face("x").image_sha256, "file:///etc/passwd")
    assert error_code(gallery.add_face, "Ada", bad, pack=pack) == "bad_request"


def test_rename(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    ada = gallery.add_face("Ada", faces.face("ada-1"), pack=pack, metadata={"k": 1})
    gallery.add_face("Bob", faces.face("bob-1"), pack=pack)
    renamed = gallery.rename_identity("Ada", "Ada Lovelace")
    assert (renamed.name, renamed.face_count, renamed.metadata) == ("Ada Lovelace", 1, {"k": 1})
    assert error_code(gallery.get, "Ada") == "not_found"
    assert gallery.face(ada.face_id).record.identity == "Ada Lovelace"
    found = gallery.search(faces.embedding("ada-1"), pack=pack, top_k=1)
    assert found[0][0].name == "Ada Lovelace"
    before = snapshot(gallery)
    assert error_code(gallery.rename_identity, "Ada Lovelace", "Bob") == "identity_exists"
    assert error_code(gallery.rename_identity, "Nobody", "Carl") == "not_found"
    assert error_code(gallery.rename_identity, "Bob", "Bob") == "bad_request"
    assert error_code(gallery.rename_identity, "Bob", "a/b") == "bad_request"
    assert snapshot(gallery) == before


def test_merge_moves_faces_drops_duplicates_and_merges_metadata(
    gallery: Gallery, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery.add_face("Ada", faces.face("a1"), pack=pack, metadata={"team": "math", "a": 1})
    gallery.add_face("Ada2", faces.face("a2"), pack=pack, metadata={"team": "cs", "b": 2})
    gallery.add_face("Ada2", faces.face("a1"), pack=pack)  # the same photo as Ada's: a duplicate
    gallery.add_face("Ada3", faces.face("a3"), pack=pack, metadata={"b": 3, "c": 3})
    gallery.add_face("Bob", faces.face("b1"), pack=pack)
    result = gallery.merge_identities("Ada", ["Ada2", "Ada3"])
    assert (result.faces_moved, result.duplicates_dropped) == (2, 1)
    assert result.identity.face_count == 3
    # The target's keys win; then each source in order adds the keys still missing.
    assert result.identity.metadata == {"team": "math", "a": 1, "b": 2, "c": 3}
    assert [i.name for i in gallery.list().identities] == ["Ada", "Bob"]
    assert gallery.face_count() == 4
    assert gallery.search(faces.embedding("a3"), pack=pack, top_k=1)[0][0].name == "Ada"

    before = snapshot(gallery)
    assert error_code(gallery.merge_identities, "Ada", ["Bob", "Nobody"]) == "not_found"
    assert error_code(gallery.merge_identities, "Ada", ["Ada"]) == "bad_request"
    assert error_code(gallery.merge_identities, "Ada", []) == "bad_request"
    assert error_code(gallery.merge_identities, "Ada", ["Bob", "Bob"]) == "bad_request"
    gallery.update_metadata("Bob", {"blob": "x" * 2500}, "replace")
    gallery.update_metadata("Ada", {"other": "y" * 2500}, "merge")
    before = snapshot(gallery)
    assert error_code(gallery.merge_identities, "Ada", ["Bob"]) == "bad_request"  # merged metadata > 4 KiB
    assert snapshot(gallery) == before


def test_move_face(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    a1 = gallery.add_face("Ada", faces.face("a1"), pack=pack)
    gallery.add_face("Ada", faces.face("shared"), pack=pack)
    gallery.add_face("Bob", faces.face("b1"), pack=pack)
    bob_shared = gallery.add_face("Bob", faces.face("shared"), pack=pack)
    moved = gallery.move_face(a1.face_id, "Bob")
    assert (moved.face.identity, moved.previous_identity, moved.face.face_id) == ("Bob", "Ada", a1.face_id)
    assert gallery.get("Ada").face_count == 1 and gallery.get("Bob").face_count == 3
    assert gallery.search(faces.embedding("a1"), pack=pack, top_k=1)[0][0].name == "Bob"
    before = snapshot(gallery)
    assert error_code(gallery.move_face, bob_shared.face_id, "Ada") == "duplicate_face"
    assert error_code(gallery.move_face, str(uuid.uuid4()), "Ada") == "not_found"
    assert error_code(gallery.move_face, a1.face_id, "Nobody") == "not_found"
    assert snapshot(gallery) == before
    same = gallery.move_face(a1.face_id, "Bob")  # already there: nothing changes
    assert same.face.identity == "Bob" and snapshot(gallery) == before


def test_update_metadata(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("Ada", faces.face("a1"), pack=pack, metadata={"a": 1, "b": 2})
    merged = gallery.update_metadata("Ada", {"b": None, "c": {"d": 3}}, "merge")
    assert merged.metadata == {"a": 1, "c": {"d": 3}} and merged.face_count == 1
    assert gallery.update_metadata("Ada", {"z": 0}, "replace").metadata == {"z": 0}
    before = snapshot(gallery)
    assert error_code(gallery.update_metadata, "Ada", {"x": "y" * 5000}, "merge") == "bad_request"
    assert error_code(gallery.update_metadata, "Ada", {"x": 1}, "upsert") == "bad_request"
    assert error_code(gallery.update_metadata, "Nobody", {"x": 1}, "merge") == "not_found"
    assert snapshot(gallery) == before


@pytest.fixture(params=BACKENDS)
def retention_gallery(request: pytest.FixtureRequest) -> SyncedGallery | PgVectorGallery:
    """A gallery of each backend (directory, S3, PostgreSQL): all keep retention."""
    store = open_gallery(f"expiry_{uuid.uuid4().hex[:12]}", backend_settings(request, request.param))
    assert isinstance(store, SyncedGallery | PgVectorGallery)
    return store


def test_update_metadata_sets_moves_and_clears_the_expiry(
    retention_gallery: SyncedGallery | PgVectorGallery, faces: FaceMaker, pack: PackInfo
) -> None:
    retention_gallery.add_face("Ada", faces.face("a1"), pack=pack, metadata={"a": 1})
    retention_gallery.add_face("Bob", faces.face("b1"), pack=pack)
    created = retention_gallery.get("Ada")
    assert created.expires_at is None
    dated = retention_gallery.update_metadata("Ada", None, "merge", expires_at="2099-01-01T00:00:00.000Z")
    assert (dated.expires_at, dated.metadata, dated.face_count) == ("2099-01-01T00:00:00.000Z", {"a": 1}, 1)
    assert dated.updated_at >= created.updated_at
    moved = retention_gallery.update_metadata("Ada", {"b": 2}, "merge", expires_at="2098-06-01T00:00:00.000Z")
    assert (moved.expires_at, moved.metadata) == ("2098-06-01T00:00:00.000Z", {"a": 1, "b": 2})
    kept = retention_gallery.update_metadata("Ada", {"c": 3}, "replace")  # no expires_at: the expiry stays
    assert (kept.expires_at, kept.metadata) == ("2098-06-01T00:00:00.000Z", {"c": 3})
    assert retention_gallery.get("Ada").expires_at == "2098-06-01T00:00:00.000Z"
    assert retention_gallery.get("Bob").expires_at is None  # only the named identity changed
    cleared = retention_gallery.update_metadata("Ada", None, "merge", expires_at=None)
    assert (cleared.expires_at, cleared.metadata) == (None, {"c": 3})
    assert retention_gallery.get("Ada").expires_at is None


def test_a_refused_expiry_update_changes_nothing(
    retention_gallery: SyncedGallery | PgVectorGallery, faces: FaceMaker, pack: PackInfo
) -> None:
    retention_gallery.add_face("Ada", faces.face("a1"), pack=pack, metadata={"a": 1})
    retention_gallery.update_metadata("Ada", None, "merge", expires_at="2099-01-01T00:00:00.000Z")
    before = snapshot(retention_gallery)
    version = retention_gallery.refresh() if isinstance(retention_gallery, SyncedGallery) else None
    too_big = {"x": "y" * 5000}
    update = retention_gallery.update_metadata
    assert error_code(update, "Ada", too_big, "merge", expires_at=None) == "bad_request"
    assert error_code(update, "Ada", None, "merge") == "bad_request"  # neither given
    assert error_code(update, "Ada", {"x": 1}, "upsert", expires_at=None) == "bad_request"
    assert error_code(update, "Nobody", None, "merge", expires_at=None) == "not_found"
    assert snapshot(retention_gallery) == before
    if isinstance(retention_gallery, SyncedGallery):
        assert retention_gallery.refresh() == version  # no new version was uploaded


def test_an_expiry_in_the_past_expires_the_identity_at_once(
    retention_gallery: SyncedGallery | PgVectorGallery, faces: FaceMaker, pack: PackInfo
) -> None:
    retention_gallery.add_face("Ada", faces.face("a1"), pack=pack)
    retention_gallery.add_face("Bob", faces.face("b1"), pack=pack)
    now = "2030-01-01T00:00:00.000Z"
    assert retention_gallery.expired_names(now) == []
    retention_gallery.update_metadata("Ada", None, "merge", expires_at="2000-01-01T00:00:00.000Z")
    assert retention_gallery.expired_names(now) == ["Ada"]
    retention_gallery.update_metadata("Ada", None, "merge", expires_at=None)
    assert retention_gallery.expired_names(now) == []


def run_concurrently(jobs: list[Callable[[], object]]) -> list[object]:
    """Start every job at once (a barrier), wait for all; each answer or the FRSError it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except FRSError as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_metadata_merges_lose_no_update(
    gallery: Gallery, settings_of_backend: Settings, faces: FaceMaker, pack: PackInfo, tmp_path: Path
) -> None:
    gallery.add_face("Ada", faces.face("a1"), pack=pack, metadata={"start": True})
    writers = [independent(settings_of_backend, gallery.name, tmp_path / f"w{i}") for i in range(4)]

    def job(writer: Gallery, index: int) -> Callable[[], object]:
        def run() -> object:
            for step in range(3):
                writer.update_metadata("Ada", {f"w{index}-{step}": step}, "merge")
            return True

        return run

    assert run_concurrently([job(w, i) for i, w in enumerate(writers)]) == [True] * 4
    expected = {"start": True, **{f"w{i}-{s}": s for i in range(4) for s in range(3)}}
    assert writers[0].get("Ada").metadata == expected


def test_concurrent_edits_of_one_identity_serialise(
    gallery: Gallery, settings_of_backend: Settings, faces: FaceMaker, pack: PackInfo, tmp_path: Path
) -> None:
    gallery.add_faces([(n, faces.face(n), None) for n in ("A", "B", "C")], pack=pack)
    writers = [independent(settings_of_backend, gallery.name, tmp_path / f"w{i}") for i in range(3)]
    results = run_concurrently(
        [
            lambda: writers[0].rename_identity("A", "A2"),
            lambda: writers[1].merge_identities("C", ["A"]),
            lambda: writers[2].add_face("B", faces.face("b2"), pack=pack),
        ]
    )
    assert not isinstance(results[2], FRSError)  # the add, to another identity, always lands
    outcomes = [isinstance(r, FRSError) and r.code for r in results[:2]]
    # Exactly one of rename and merge took A; the other found it gone.
    assert sorted(str(o) for o in outcomes) == ["False", "not_found"]
    final = snapshot(writers[0])
    names = [n for n, _, _, _ in final]
    assert names in (["A2", "B", "C"], ["B", "C"])
    assert sum(len(f) for _, _, f, _ in final) == 4  # no face lost or duplicated
