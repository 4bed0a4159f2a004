"""One behavioural contract for every gallery backend: the same calls must give the same answers.

Backends: SQLite in a local directory, SQLite in S3 (moto on 127.0.0.1) and PostgreSQL + pgvector (pgserver on
a Unix socket). All are opened through :func:`frs.gallery.factory.open_gallery`, as the service does. This is
the one home of every behaviour the Gallery interface promises; backend-specific behaviour (sync, caching,
files, SQL) is tested next to its backend (``file/``, ``pgvector/``).
"""

from __future__ import annotations

import dataclasses
import re
import uuid

import numpy as np
import pytest

from frs.errors import FRSError
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker

ISO_UTC_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def error_code(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(FRSError) as err:
        call(*args, **kwargs)
    return err.value.code


def test_empty_gallery(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    query = faces.embedding("q")
    assert gallery.pack() is None
    assert gallery.list().identities == ()
    assert gallery.list().next_page_token is None
    assert gallery.search(np.stack([query, query]), pack=pack, top_k=3) == [[], []]
    assert gallery.face_count() == 0
    assert error_code(gallery.get, "nobody") == "not_found"
    assert error_code(gallery.delete_identity, "nobody") == "not_found"
    assert error_code(gallery.delete_face, str(uuid.uuid4())) == "not_found"
    assert error_code(gallery.identity_similarity, "nobody", query, pack=pack) == "not_found"


def test_add_get_and_records(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    metadata = {"team": "math", "n": [1, 2.5, None, True], "nested": {"k": "ü"}, "big": 2**63 + 1, "e": 1e-7}
    first = gallery.add_face("Ada", faces.face("ada-1"), pack=pack, metadata=metadata)
    assert (first.identity, first.face_count, first.created) == ("Ada", 1, True)
    uuid.UUID(first.face_id)
    second = gallery.add_face("Ada", faces.face("ada-2"), pack=pack)
    assert (second.face_count, second.created) == (2, True) and second.face_id != first.face_id

    ada = gallery.get("Ada")
    assert ada.name == "Ada" and ada.face_count == 2
    assert ada.metadata == metadata  # JSON types survive; metadata=None on the second add kept it
    assert [f.face_id for f in ada.faces] == [first.face_id, second.face_id]  # enrolment order
    record = ada.faces[0]
    assert (record.identity, record.pack, record.dim) == ("Ada", pack.name, pack.dim)
    assert (record.det_score, record.bbox) == (0.9, (1.0, 2.0, 30.0, 40.0))
    assert record.image_sha256 == faces.face("ada-1").image_sha256
    for stamp in (ada.created_at, ada.updated_at, record.created_at):
        assert ISO_UTC_MS.fullmatch(stamp), stamp
    assert ada.updated_at >= ada.created_at
    assert gallery.pack() == pack


def test_idempotent_add_and_metadata_replacement(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    first = gallery.add_face("Ada", faces.face("ada-1"), pack=pack, metadata={"v": 1})
    again = gallery.add_face("Ada", faces.face("ada-1"), pack=pack, metadata={"v": 2})
    assert (again.face_id, again.face_count, again.created) == (first.face_id, 1, False)
    assert gallery.get("Ada").metadata == {"v": 2}  # a dict replaces, even on a re-add
    other = gallery.add_face("Bob", faces.face("ada-1"), pack=pack)  # same photo, another identity
    assert other.created and other.face_id != first.face_id

    c1, c2 = faces.face("c1"), faces.face("c2")
    items = [("Cy", c1, None), ("Cy", c1, None), ("Cy", c2, {"k": "v"})]
    batch = gallery.add_faces(items, pack=pack)
    assert [(r.created, r.face_count) for r in batch] == [(True, 1), (False, 1), (True, 2)]
    assert batch[1].face_id == batch[0].face_id
    assert gallery.get("Cy").metadata == {"k": "v"}
    assert gallery.add_faces([], pack=pack) == []


def test_failed_batch_writes_nothing(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("Ada", faces.face("ada-1"), pack=pack)
    items = [("New", faces.face("n1"), None), ("Ada", faces.face("bad", dim=pack.dim + 1), None)]
    assert error_code(gallery.add_faces, items, pack=pack) == "bad_request"
    assert error_code(gallery.get, "New") == "not_found"
    big = {"blob": "x" * 5000}
    assert error_code(gallery.add_face, "Ada", faces.face("ada-2"), pack=pack, metadata=big) == "bad_request"
    assert gallery.get("Ada").face_count == 1


def test_list_pagination_prefix_and_stability(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    names = [f"p{i:02d}" for i in range(0, 50, 2)]  # p00, p02, ... p48
    gallery.add_faces([(n, faces.face(n), None) for n in names], pack=pack)
    gallery.add_face("p10", faces.face("p10-second"), pack=pack)
    first = gallery.list(page_size=10)
    assert [i.name for i in first.identities] == names[:10]
    assert all(i.faces == () for i in first.identities)  # a listing never carries faces
    assert [i.face_count for i in first.identities] == [1] * 5 + [2] + [1] * 4
    assert first.next_page_token is not None
    # Identities added between pages never shift the rest: one before the cursor, one after it.
    gallery.add_faces([("p01", faces.face("p01"), None), ("p21", faces.face("p21"), None)], pack=pack)
    seen = [i.name for i in first.identities]
    token: str | None = first.next_page_token
    while token is not None:
        page = gallery.list(page_size=10, page_token=token)
        seen.extend(i.name for i in page.identities)
        token = page.next_page_token
    assert seen == sorted([*names, "p21"])

    prefixed = gallery.list(prefix="p1", page_size=3)
    assert [i.name for i in prefixed.identities] == ["p10", "p12", "p14"]
    rest = gallery.list(prefix="p1", page_size=3, page_token=prefixed.next_page_token)
    assert [i.name for i in rest.identities] == ["p16", "p18"] and rest.next_page_token is None
    assert error_code(gallery.list, prefix="p2", page_token=prefixed.next_page_token) == "bad_request"
    assert error_code(gallery.list, page_token="not a token!") == "bad_request"
    assert error_code(gallery.list, page_size=0) == "bad_request"


def test_delete_identity_and_face(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    a1 = gallery.add_face("A", faces.face("a1"), pack=pack)
    a2 = gallery.add_face("A", faces.face("a2"), pack=pack)
    gallery.add_face("A", faces.face("a2"), pack=pack)  # the same image again is no new face
    b1 = gallery.add_face("B", faces.face("b1"), pack=pack)
    assert gallery.face_count() == 3  # faces, not identities: the N of the open-set operating point

    removed = gallery.delete_face(b1.face_id)
    assert gallery.face_count() == 2
    assert (removed.face_id, removed.identity, removed.image_sha256) == (
        b1.face_id,
        "B",
        faces.face("b1").image_sha256,
    )
    b = gallery.get("B")
    assert (b.face_count, b.faces) == (0, ())  # the identity stays
    assert error_code(gallery.delete_face, b1.face_id) == "not_found"
    assert error_code(gallery.delete_face, "not-a-uuid") == "bad_request"
    assert error_code(gallery.identity_similarity, "B", faces.embedding("b1"), pack=pack) == "not_found"

    assert gallery.delete_identity("A") == [a1.face_id, a2.face_id]  # the removed faces, enrolment order
    assert gallery.face_count() == 0
    assert gallery.search(faces.embedding("a1")[None, :], pack=pack, top_k=5) == [[]]  # nothing left to find
    assert error_code(gallery.get, "A") == "not_found"
    assert error_code(gallery.delete_face, a1.face_id) == "not_found"
    assert error_code(gallery.delete_identity, "A") == "not_found"
    assert gallery.delete_identity("B") == []
    assert gallery.list().identities == ()
    assert gallery.pack() == pack  # stays bound once a face was enrolled


def test_pack_mismatch(gallery: Gallery, faces: FaceMaker, pack: PackInfo) -> None:
    gallery.add_face("A", faces.face("a"), pack=pack)
    other_name = PackInfo(name="other", dim=pack.dim)
    other_dim = PackInfo(name=pack.name, dim=pack.dim * 2)
    query = faces.embedding("q")
    assert error_code(gallery.add_face, "B", faces.face("b"), pack=other_name) == "pack_mismatch"
    wide = faces.face("b", dim=other_dim.dim)
    assert error_code(gallery.add_face, "B", wide, pack=other_dim) == "pack_mismatch"
    assert error_code(gallery.search, query[None, :], pack=other_name, top_k=1) == "pack_mismatch"
    assert error_code(gallery.identity_similarity, "A", query, pack=other_name) == "pack_mismatch"
    assert error_code(gallery.get, "B") == "not_found"
    assert [i.name for i in gallery.list().identities] == ["A"]
    assert gallery.pack() == pack


def test_bad_input_is_refused_before_anything_is_written(
    gallery: Gallery, faces: FaceMaker, pack: PackInfo
) -> None:
    good = faces.face("a")
    bad_faces = [
        dataclasses.replace(good, embedding=good.embedding[:10]),
        dataclasses.replace(good, embedding=good.embedding * 2),  # not L2-normalised
        dataclasses.replace(good, embedding=np.full(pack.dim, np.nan, dtype=np.float32)),
        dataclasses.replace(good, image_sha256="not-a-hash"),
        dataclasses.replace(good, det_score=float("inf")),
        dataclasses.replace(good, bbox=(1.0, 2.0, 3.0)),  # type: ignore[arg-type]
    ]
    for face in bad_faces:
        assert error_code(gallery.add_face, "A", face, pack=pack) == "bad_request"
    for name in ["", "a/b", "x" * 129, "ctl\x01"]:
        assert error_code(gallery.add_face, name, good, pack=pack) == "bad_request"
    assert error_code(gallery.add_face, "A", good, pack=pack, metadata={"big": "x" * 5000}) == "bad_request"
    wrong_width = np.ones((1, pack.dim + 1), dtype=np.float32)
    assert error_code(gallery.search, wrong_width, pack=pack, top_k=1) == "bad_request"
    assert error_code(gallery.search, faces.embedding("q")[None, :], pack=pack, top_k=0) == "bad_request"
    assert error_code(gallery.delete_face, "not-a-uuid") == "bad_request"
    assert gallery.pack() is None  # nothing was written
    assert gallery.list().identities == ()


def test_search_ranks_identities_by_max_similarity(
    gallery: Gallery, faces: FaceMaker, pack: PackInfo
) -> None:
    enrolled = {"A": ["a1", "a2", "a3"], "B": ["b1"], "C": ["c1", "c2"], "D": ["d1"]}
    gallery.add_faces([(n, faces.face(k), None) for n, keys in enrolled.items() for k in keys], pack=pack)
    gallery.add_face("Empty", faces.face("e1"), pack=pack)
    gallery.delete_face(gallery.get("Empty").faces[0].face_id)  # an identity without faces is never a hit

    rng = np.random.default_rng(7)
    queries = [faces.embedding("a2"), faces.embedding("c1")]
    for _ in range(3):  # random directions: every identity gets a distinct, non-trivial score
        v = rng.standard_normal(pack.dim).astype(np.float32)
        queries.append(v / np.linalg.norm(v))
    matrix = np.stack(queries)

    results = gallery.search(matrix, pack=pack, top_k=10)
    assert len(results) == len(queries)
    for query, hits in zip(queries, results, strict=True):
        expected = {
            name: max(float(faces.embedding(k) @ query) for k in keys) for name, keys in enrolled.items()
        }
        assert [h.name for h in hits] == sorted(expected, key=lambda n: -expected[n])
        for hit in hits:
            assert hit.similarity == pytest.approx(expected[hit.name], abs=1e-5)
            # identity_similarity agrees with search on the same identity
            single = gallery.identity_similarity(hit.name, query, pack=pack)
            assert single == pytest.approx(hit.similarity, abs=1e-5)
    assert results[0][0].name == "A" and results[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert results[1][0].name == "C"

    top2 = gallery.search(matrix, pack=pack, top_k=2)
    assert [[h.name for h in hits] for hits in top2] == [[h.name for h in hits[:2]] for hits in results]
    assert error_code(gallery.search, matrix, pack=pack, top_k=0) == "bad_request"
    assert error_code(gallery.identity_similarity, "nobody", queries[0], pack=pack) == "not_found"


@pytest.mark.parametrize(
    "name",
    [
        "Robert'); DROP TABLE identities;--",
        "x' OR '1'='1",
        '"; DELETE FROM faces; --',
        "%",
        "_",
        "a_b\\c",
        "Zoë Ångström",
        "名前 テスト",
        "emoji 🙂",
    ],
)
def test_unicode_and_sql_looking_names_are_literal(
    gallery: Gallery, faces: FaceMaker, pack: PackInfo, name: str
) -> None:
    decoys = ["a", "x", "ab", "Z", "名"]
    gallery.add_faces([(d, faces.face(d), None) for d in decoys], pack=pack)
    added = gallery.add_face(name, faces.face(name), pack=pack, metadata={"label": name})
    assert gallery.get(name).metadata == {"label": name}
    listed = [i.name for i in gallery.list().identities]
    assert listed == sorted([*decoys, name])  # code point order, like Python's str ordering
    assert [i.name for i in gallery.list(prefix=name).identities] == [name]  # LIKE wildcards stay literal
    assert gallery.search(faces.embedding(name)[None, :], pack=pack, top_k=1)[0][0].name == name
    assert gallery.delete_face(added.face_id).identity == name
    assert gallery.delete_identity(name) == []
    assert sorted(i.name for i in gallery.list().identities) == sorted(decoys)
