"""Retention in PostgreSQL: searches leave an expired identity out in SQL, from the moment it expires (no
write, no purge needed), on the HNSW index path and on the exact path; the purge is one transaction that
removes the rows. Behaviour shared with the file galleries is in tests/gallery/test_retention.py."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from frs.gallery.pgvector.connection import PgVector, register_vector
from frs.gallery.pgvector.schema import index_name
from frs.gallery.pgvector.search import approximate_identities_sql, candidate_count, search_gallery
from frs.gallery.pgvector.store import PgVectorGallery, open_pgvector_gallery
from harness.postgres import PgServer
from tests.gallery.synthetic import TEST_PACK, FaceMaker

NAMES = [f"p{i:02d}" for i in range(30)]


def _gallery(pg_server: PgServer, faces: FaceMaker) -> PgVectorGallery:
    gallery = open_pgvector_gallery(pg_server.uri, f"expiry_{uuid.uuid4().hex[:12]}")
    gallery.add_faces([(n, faces.face(n), None) for n in NAMES], pack=TEST_PACK)
    return gallery


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_an_expired_identity_is_left_out_of_searches_from_the_moment_it_expires(
    pg_server: PgServer, faces: FaceMaker
) -> None:
    gallery = _gallery(pg_server, faces)
    probe = faces.embedding("p00")[None, :]
    assert gallery.search(probe, pack=TEST_PACK, top_k=5)[0][0].name == "p00"

    moment = datetime.now(UTC) + timedelta(seconds=1.5)
    gallery.update_metadata("p00", None, "merge", expires_at=_iso(moment))
    assert gallery.search(probe, pack=TEST_PACK, top_k=5)[0][0].name == "p00"  # not yet expired
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.2)

    # Nothing was written since: the clock alone takes it out of every search.
    hits = gallery.search(probe, pack=TEST_PACK, top_k=5)[0]
    assert len(hits) == 5 and "p00" not in {h.name for h in hits}
    every = gallery.search(probe, pack=TEST_PACK, top_k=30)[0]  # fewer identities than asked: exact query
    assert sorted(h.name for h in every) == NAMES[1:]
    assert gallery.expired_names(_iso(datetime.now(UTC))) == ["p00"]
    assert gallery.get("p00").expires_at == _iso(moment)  # get still shows it until the purge

    gallery.update_metadata("p00", None, "merge", expires_at=None)  # cleared: found again
    assert gallery.search(probe, pack=TEST_PACK, top_k=5)[0][0].name == "p00"


def test_the_index_path_leaves_expired_identities_out_too(pg_server: PgServer, faces: FaceMaker) -> None:
    gallery = _gallery(pg_server, faces)
    gallery.update_metadata("p00", None, "merge", expires_at="2000-01-01T00:00:00Z")
    probe = faces.embedding("p00")
    with psycopg.connect(pg_server.uri) as conn:
        register_vector(conn)
        # A 30-face gallery is cheaper to scan; forbid that, so the planner must take the HNSW index.
        conn.execute("SET LOCAL enable_seqscan = off")
        query = approximate_identities_sql(gallery.gallery_id, TEST_PACK.dim, 5, candidate_count(5))
        plan = "\n".join(
            str(r[0]) for r in conn.execute(sql.SQL("EXPLAIN ") + query, {"q": PgVector(probe)}).fetchall()
        )
        found = search_gallery(conn, gallery.gallery_id, TEST_PACK.dim, probe[None, :], 5)[0]
    assert f"Index Scan using {index_name(gallery.gallery_id)}" in plan, plan
    assert len(found) == 5 and "p00" not in {c.name for c in found}


def test_the_purge_removes_the_rows(pg_server: PgServer, faces: FaceMaker) -> None:
    gallery = _gallery(pg_server, faces)
    expired = [gallery.get(n).faces[0].face_id for n in ("p03", "p07")]
    for name in ("p03", "p07"):
        gallery.update_metadata(name, None, "merge", expires_at="2000-01-01T00:00:00Z")
    assert gallery.purge_expired(_iso(datetime.now(UTC))) == [("p03", [expired[0]]), ("p07", [expired[1]])]
    with psycopg.connect(pg_server.uri) as conn:
        faces_left = conn.execute(
            "SELECT count(*) FROM frs.faces WHERE face_id = ANY(%s::uuid[])", (expired,)
        ).fetchone()
        identities_left = conn.execute(
            "SELECT count(*) FROM frs.identities WHERE gallery_id = %s", (gallery.gallery_id,)
        ).fetchone()
    assert faces_left == (0,) and identities_left == (28,)
    assert gallery.face_count() == 28
