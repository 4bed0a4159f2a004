"""Gallery behaviour, on both file transports (local directory and S3 via a real moto server)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
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


def codes(exc: pytest.ExceptionInfo[FRSError]) -> str:
    return exc.value.code


def test_empty_gallery_is_unbound_and_empty(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    assert gallery.pack() is None
    assert gallery.list().identities == ()
    assert gallery.search(np.stack([faces.embedding("q")]), pack=pack, top_k=3) == [[]]
    with pytest.raises(FRSError) as err:
        gallery.get("nobody")
    assert codes(err) == "not_found"


def test_add_get_and_idempotent_re_add(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    first = gallery.add_face("Ada", faces.face("ada-1"), pack=pack, metadata={"team": "math"})
    assert first.created and first.face_count == 1 and first.identity == "Ada"
    again = gallery.add_face("Ada", faces.face("ada-1"), pack=pack)
    assert (again.created, again.face_id, again.face_count) == (False, first.face_id, 1)
    second = gallery.add_face("Ada", faces.face("ada-2"), pack=pack)
    assert second.created and second.face_count == 2 and second.face_id != first.face_id

    ada = gallery.get("Ada")
    assert ada.metadata == {"team": "math"}  # metadata=None kept it
    assert [f.face_id for f in ada.faces] == [first.face_id, second.face_id]
    record = ada.faces[0]
    assert (record.pack, record.dim, record.det_score, record.bbox) == (
        pack.name,
        pack.dim,
        0.9,
        (1, 2, 30, 40),
    )
    assert record.image_sha256 == faces.face("ada-1").image_sha256
    assert gallery.pack() == pack


def test_same_image_for_another_identity_is_a_new_face(
    gallery: Gallery, faces: FaceMaker, pack: PackInfo
) -> None:
    a = gallery.add_face("A", faces.face("shared"), pack=pack)
    b = gallery.add_face("B", faces.face("shared"), pack=pack)
    assert a.created and b.created and a.face_id != b.face_id


def test_metadata_is_replaced_when_given(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("Ada", faces.face("1"), pack=pack, metadata={"v": 1})
    gallery.add_face("Ada", faces.face("1"), pack=pack, metadata={"v": 2})
    assert gallery.get("Ada").metadata == {"v": 2}


def test_add_faces_batch(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    results = gallery.add_faces(
        [("A", faces.face("a1"), None), ("B", faces.face("b1"), {"x": 1}), ("A", faces.face("a1"), None)],
        pack=pack,
    )
    assert [r.created for r in results] == [True, True, False]
    assert results[2].face_id == results[0].face_id
    assert [i.name for i in gallery.list().identities] == ["A", "B"]
    assert gallery.add_faces([], pack=pack) == []


def test_pack_mismatch(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("A", faces.face("a"), pack=pack)
    other_name = PackInfo(name="other", dim=pack.dim)
    other_dim = PackInfo(name=pack.name, dim=32)
    with pytest.raises(FRSError) as err:
        gallery.add_face("B", faces.face("b"), pack=other_name)
    assert codes(err) == "pack_mismatch"
    with pytest.raises(FRSError) as err:
        gallery.add_face("B", faces.face("b", dim=32), pack=other_dim)
    assert codes(err) == "pack_mismatch"
    with pytest.raises(FRSError) as err:
        gallery.search(faces.embedding("q")[None, :], pack=other_name, top_k=1)
    assert codes(err) == "pack_mismatch"
    with pytest.raises(FRSError) as err:
        gallery.identity_similarity("A", faces.embedding("q"), pack=other_name)
    assert codes(err) == "pack_mismatch"
    assert [i.name for i in gallery.list().identities] == ["A"]


def test_bad_embeddings_are_rejected(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    good = faces.face("a")
    bad_faces = [
        replace(good, embedding=good.embedding[:10]),
        replace(good, embedding=good.embedding * 2),
        replace(good, embedding=np.full(pack.dim, np.nan, dtype=np.float32)),
        replace(good, image_sha256="not-a-hash"),
        replace(good, det_score=float("inf")),
        replace(good, bbox=(1.0, 2.0, 3.0)),  # type: ignore[arg-type]
    ]
    for face in bad_faces:
        with pytest.raises(FRSError) as err:
            gallery.add_face("A", face, pack=pack)
        assert codes(err) == "bad_request"
    with pytest.raises(FRSError) as err:
        gallery.search(np.ones((1, pack.dim + 1), dtype=np.float32), pack=pack, top_k=1)
    assert codes(err) == "bad_request"
    with pytest.raises(FRSError) as err:
        gallery.search(faces.embedding("q")[None, :], pack=pack, top_k=0)
    assert codes(err) == "bad_request"
    assert gallery.pack() is None  # nothing was written


def test_invalid_names_and_metadata(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    for name in ["", "a/b", "x" * 129, "ctl\x01"]:
        with pytest.raises(FRSError) as err:
            gallery.add_face(name, faces.face("a"), pack=pack)
        assert codes(err) == "bad_request"
    with pytest.raises(FRSError) as err:
        gallery.add_face("A", faces.face("a"), pack=pack, metadata={"big": "x" * 5000})
    assert codes(err) == "bad_request"
    with pytest.raises(FRSError) as err:
        gallery.delete_face("not-a-uuid")
    assert codes(err) == "bad_request"


def test_sql_looking_names_are_stored_literally(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    tricky = ["Robert'); DROP TABLE identities;--", "x' OR '1'='1", '"; DELETE FROM faces; --', "%", "_"]
    for i, name in enumerate(tricky):
        gallery.add_face(name, faces.face(f"t{i}"), pack=pack, metadata={"note": name})
    listed = [i.name for i in gallery.list().identities]
    assert listed == sorted(tricky)
    for name in tricky:
        assert gallery.get(name).metadata == {"note": name}
    # LIKE wildcards in a prefix match literally.
    assert [i.name for i in gallery.list(prefix="%").identities] == ["%"]
    assert [i.name for i in gallery.list(prefix="x'").identities] == ["x' OR '1'='1"]


def test_list_pagination_is_stable_under_inserts(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    initial = [f"person-{i:02d}" for i in range(0, 20, 2)]
    gallery.add_faces([(n, faces.face(n), None) for n in initial], pack=pack)
    seen: list[str] = []
    page = gallery.list(page_size=3)
    seen.extend(i.name for i in page.identities)
    inserted = 0
    while page.next_page_token:
        # Insert names both before and after the cursor between pages.
        for name in (f"person-{inserted:02d}a", f"aaa-{inserted}"):
            gallery.add_face(name, faces.face(name), pack=pack)
        inserted += 1
        page = gallery.list(page_size=3, page_token=page.next_page_token)
        seen.extend(i.name for i in page.identities)
    assert len(seen) == len(set(seen))  # nothing listed twice
    assert set(initial) <= set(seen)  # nothing present throughout was skipped
    assert seen == sorted(seen)


def test_list_prefix_and_counts(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    for name in ["ab", "abc", "abd", "b", "a"]:
        gallery.add_face(name, faces.face(name), pack=pack)
    gallery.add_face("abc", faces.face("abc-2"), pack=pack)
    page = gallery.list(prefix="ab", page_size=2)
    assert [i.name for i in page.identities] == ["ab", "abc"]
    assert [i.face_count for i in page.identities] == [1, 2]
    assert page.identities[1].faces == ()  # list never carries faces
    rest = gallery.list(prefix="ab", page_size=2, page_token=page.next_page_token)
    assert [i.name for i in rest.identities] == ["abd"] and rest.next_page_token is None
    with pytest.raises(FRSError) as err:
        gallery.list(prefix="b", page_token=page.next_page_token)
    assert codes(err) == "bad_request"
    with pytest.raises(FRSError):
        gallery.list(page_size=0)


def test_delete_identity_and_face(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("A", faces.face("a1"), pack=pack)
    a2 = gallery.add_face("A", faces.face("a2"), pack=pack)
    gallery.add_face("B", faces.face("b1"), pack=pack)

    removed = gallery.delete_face(a2.face_id)
    assert removed.face_id == a2.face_id and removed.identity == "A"
    assert gallery.get("A").face_count == 1
    with pytest.raises(FRSError) as err:
        gallery.delete_face(a2.face_id)
    assert codes(err) == "not_found"

    assert gallery.delete_identity("A") == 1
    with pytest.raises(FRSError) as err:
        gallery.get("A")
    assert codes(err) == "not_found"
    with pytest.raises(FRSError) as err:
        gallery.delete_identity("A")
    assert codes(err) == "not_found"
    assert [c.name for c in gallery.search(faces.embedding("a1")[None, :], pack=pack, top_k=5)[0]] == ["B"]
    assert gallery.pack() == pack  # stays bound after deletions


def test_identity_with_no_faces_left(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    added = gallery.add_face("A", faces.face("a1"), pack=pack)
    gallery.delete_face(added.face_id)
    assert gallery.get("A").face_count == 0
    assert gallery.search(faces.embedding("a1")[None, :], pack=pack, top_k=3) == [[]]
    with pytest.raises(FRSError) as err:
        gallery.identity_similarity("A", faces.embedding("a1"), pack=pack)
    assert codes(err) == "not_found"


def test_search_and_identity_similarity(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_faces(
        [("A", faces.face("a1"), None), ("A", faces.face("a2"), None), ("B", faces.face("b1"), None)],
        pack=pack,
    )
    queries = np.stack([faces.embedding("a2"), faces.embedding("b1")])
    results = gallery.search(queries, pack=pack, top_k=5)
    assert [c.name for c in results[0]] == ["A", "B"]
    assert results[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert results[1][0].name == "B"
    assert len(gallery.search(queries, pack=pack, top_k=1)[0]) == 1
    expected = max(float(faces.embedding(k) @ faces.embedding("q")) for k in ("a1", "a2"))
    assert gallery.identity_similarity("A", faces.embedding("q"), pack=pack) == pytest.approx(
        expected, abs=1e-6
    )
    with pytest.raises(FRSError) as err:
        gallery.identity_similarity("nobody", faces.embedding("q"), pack=pack)
    assert codes(err) == "not_found"


def test_search_sees_own_writes_without_waiting(
    backend_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery = open_gallery("people", replace(backend_settings, sync_ttl=3600))
    gallery.add_face("A", faces.face("a"), pack=pack)
    assert gallery.search(faces.embedding("a")[None, :], pack=pack, top_k=1)[0][0].name == "A"
    gallery.add_face("B", faces.face("b"), pack=pack)
    assert gallery.search(faces.embedding("b")[None, :], pack=pack, top_k=1)[0][0].name == "B"


def test_stored_file_has_the_documented_schema(
    local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery = open_gallery("people", local_settings)
    gallery.add_face("A", faces.face("a"), pack=pack)
    path = f"{local_settings.gallery_uri}/people.sqlite"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert (meta["schema_version"], meta["pack"], meta["dim"]) == ("1", pack.name, str(pack.dim))
    blob, dim = conn.execute("SELECT embedding, dim FROM faces").fetchone()
    assert np.array_equal(np.frombuffer(blob, dtype="<f4"), faces.embedding("a")) and dim == pack.dim
    conn.close()


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


def test_a_version_remembers_its_recent_write_ids(tmp_path: Path) -> None:
    from frs.gallery.file.store import RECENT_WRITE_IDS, open_working_copy

    db = open_working_copy(tmp_path / "g.sqlite", "g")
    assert db.recent_write_ids() == []
    ids = [f"w{i}" for i in range(RECENT_WRITE_IDS + 8)]
    for write_id in ids:
        db.set_write_id(write_id)
    assert db.write_id() == ids[-1]
    assert db.recent_write_ids() == ids[-RECENT_WRITE_IDS:]  # bounded, newest last
    db.close()
