"""The bulk-transfer primitives every backend offers (the base of export, import and copy): streaming every
identity and face, and an atomic, idempotent import that keeps ids and times."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import is_postgres_uri, open_gallery
from frs.gallery.types import Gallery, Identity, StoredFace
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker


def target_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Where the import goes: the same backend, except that PostgreSQL face ids are unique per database, so a
    pgvector gallery's faces go to a directory (the import to another database is the copy's case)."""
    if is_postgres_uri(settings.gallery_uri):
        local: Settings = request.getfixturevalue("local_settings")
        return local
    return settings


def records(gallery: Gallery) -> Iterator[Identity | StoredFace]:
    return itertools.chain(gallery.iter_identities(), gallery.iter_faces())


def test_stream_and_import_round_trip(
    gallery: Gallery,
    settings_of_backend: Settings,
    request: pytest.FixtureRequest,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    items = [(f"p{i % 7}", faces.face(f"f{i}"), {"i": i % 7} if i < 7 else None) for i in range(30)]
    gallery.add_faces(items, pack=pack)
    streamed = list(gallery.iter_faces())
    assert [s.record.face_id for s in streamed] == sorted(s.record.face_id for s in streamed)
    assert len(streamed) == 30 and [i.name for i in gallery.iter_identities()] == [f"p{i}" for i in range(7)]

    target = open_gallery(f"bulk_{uuid.uuid4().hex[:12]}", target_settings(request, settings_of_backend))
    result = target.import_records(lambda: records(gallery), pack=pack)
    assert (result.identities_added, result.faces_added, result.faces_skipped) == (7, 30, 0)
    again = target.import_records(lambda: records(gallery), pack=pack)
    assert (again.identities_added, again.faces_added, again.faces_skipped) == (0, 0, 30)  # idempotent
    queries = np.stack([faces.embedding(f"f{i}") for i in range(0, 30, 3)])

    # Identical answers as the API gives them (4 decimals; the float sums may differ in the last bit).
    def answers(g: Gallery) -> list[list[tuple[str, float]]]:
        return [
            [(c.name, round(c.similarity, 4)) for c in row] for row in g.search(queries, pack=pack, top_k=3)
        ]

    assert answers(target) == answers(gallery)
    for name in ("p0", "p3"):
        a, b = target.get(name), gallery.get(name)  # metadata, times, face ids, records: all kept
        assert dataclasses.replace(a, faces=()) == dataclasses.replace(b, faces=())
        assert sorted(a.faces, key=lambda f: f.face_id) == sorted(b.faces, key=lambda f: f.face_id)
    copied = list(target.iter_faces())
    assert all(np.array_equal(a.embedding, b.embedding) for a, b in zip(copied, streamed, strict=True))
    assert target.existing_face_ids([streamed[0].record.face_id, str(uuid.uuid4())]) == {
        streamed[0].record.face_id
    }


def test_a_failing_or_foreign_import_writes_nothing(
    gallery: Gallery,
    settings_of_backend: Settings,
    request: pytest.FixtureRequest,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    gallery.add_faces([(f"p{i}", faces.face(f"f{i}"), None) for i in range(5)], pack=pack)
    target = open_gallery(f"bulk_{uuid.uuid4().hex[:12]}", target_settings(request, settings_of_backend))
    target.add_face("Kept", faces.face("kept"), pack=pack)

    def broken() -> Iterator[Identity | StoredFace]:
        yield from itertools.islice(records(gallery), 8)
        raise FRSError("bad_request", "the file is truncated")

    with pytest.raises(FRSError) as err:
        target.import_records(broken, pack=pack)
    assert err.value.code == "bad_request"
    assert [i.name for i in target.iter_identities()] == ["Kept"] and target.face_count() == 1

    other = PackInfo(name="other-pack", dim=pack.dim)
    with pytest.raises(FRSError) as err:
        target.import_records(lambda: records(gallery), pack=other)
    assert err.value.code == "pack_mismatch"
    assert target.face_count() == 1

    replaced = target.import_records(lambda: records(gallery), pack=pack, replace=True)
    assert replaced.faces_added == 5
    assert [i.name for i in target.iter_identities()] == [f"p{i}" for i in range(5)]  # "Kept" is gone
