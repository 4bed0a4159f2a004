"""Bulk loads into PostgreSQL build the gallery's HNSW index once at the end instead of inserting into it:
the index is gone while the rows arrive, searches stay exact and correct meanwhile, and the index is back,
valid and used, afterwards: also when the load fails, and when an earlier concurrent build was interrupted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from psycopg import sql

from frs.gallery.pgvector.connection import PgVector, register_vector
from frs.gallery.pgvector.schema import gallery_index_valid, index_name
from frs.gallery.pgvector.search import approximate_identities_sql, candidate_count
from frs.gallery.pgvector.store import BULK_LOAD_MIN_FACES, PgVectorGallery, open_pgvector_gallery
from frs.gallery.types import FaceRecord, Identity, StoredFace
from harness.postgres import PgServer
from tests.gallery.synthetic import TEST_PACK

CREATED = "2026-01-01T00:00:00.000Z"
PEOPLE = 50


def _records(n_faces: int, seed: int) -> list[Identity | StoredFace]:
    """``PEOPLE`` identities whose faces are noisy copies of one unit vector each."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((PEOPLE, TEST_PACK.dim)).astype(np.float32)
    out: list[Identity | StoredFace] = [
        Identity(name=f"p{i:02d}", metadata={}, created_at=CREATED, updated_at=CREATED, face_count=0)
        for i in range(PEOPLE)
    ]
    for row in range(n_faces):
        owner = row % PEOPLE
        vector = centres[owner] + 0.3 * rng.standard_normal(TEST_PACK.dim).astype(np.float32)
        record = FaceRecord(
            face_id=str(uuid.uuid4()),
            identity=f"p{owner:02d}",
            pack=TEST_PACK.name,
            dim=TEST_PACK.dim,
            det_score=0.9,
            bbox=(1.0, 2.0, 50.0, 60.0),
            image_sha256=f"{seed:08x}{row:056x}",
            created_at=CREATED,
        )
        out.append(StoredFace(record=record, embedding=vector / np.linalg.norm(vector)))
    return out


def _index_state(pg_server: PgServer, gallery: PgVectorGallery) -> bool | None:
    with psycopg.connect(pg_server.uri) as conn:
        return gallery_index_valid(conn, gallery.gallery_id)


def _plan(pg_server: PgServer, gallery: PgVectorGallery, probe: np.ndarray) -> str:
    with psycopg.connect(pg_server.uri) as conn:
        register_vector(conn)
        conn.execute("SET LOCAL enable_seqscan = off")  # the index, whenever one can be used
        query = approximate_identities_sql(gallery.gallery_id, TEST_PACK.dim, 5, candidate_count(5))
        rows = conn.execute(sql.SQL("EXPLAIN ") + query, {"q": PgVector(probe)}).fetchall()
    return "\n".join(str(r[0]) for r in rows)


def _gallery(pg_server: PgServer) -> PgVectorGallery:
    return open_pgvector_gallery(pg_server.uri, f"bulk_{uuid.uuid4().hex[:12]}")


def test_a_bulk_import_builds_the_index_at_the_end_and_searches_stay_right_meanwhile(
    pg_server: PgServer,
) -> None:
    gallery = _gallery(pg_server)
    data = _records(BULK_LOAD_MIN_FACES, seed=1)
    probe = data[PEOPLE].embedding  # type: ignore[union-attr]  # the first face, of p00
    with gallery.bulk_load(len(data) - PEOPLE):
        result = gallery.import_records(lambda: iter(data), pack=TEST_PACK)
        assert result.faces_added == BULK_LOAD_MIN_FACES
        # The rows are committed and searchable; the gallery has no index yet, so the search is exact.
        assert _index_state(pg_server, gallery) is None
        assert gallery.search(probe[None, :], pack=TEST_PACK, top_k=3)[0][0].name == "p00"
    assert _index_state(pg_server, gallery) is True
    plan = _plan(pg_server, gallery, probe)
    assert f"Index Scan using {index_name(gallery.gallery_id)}" in plan, plan
    assert gallery.search(probe[None, :], pack=TEST_PACK, top_k=3)[0][0].name == "p00"


def test_a_failed_bulk_load_still_leaves_the_gallery_indexed(pg_server: PgServer) -> None:
    gallery = _gallery(pg_server)
    gallery.import_records(lambda: iter(_records(100, seed=2)), pack=TEST_PACK)  # bound and indexed
    assert _index_state(pg_server, gallery) is True

    def broken() -> Iterator[Identity | StoredFace]:
        yield from _records(200, seed=3)[PEOPLE:]
        raise OSError("the export file vanished")

    with pytest.raises(OSError), gallery.bulk_load(BULK_LOAD_MIN_FACES):
        assert _index_state(pg_server, gallery) is None  # dropped for the load
        gallery.import_records(broken, pack=TEST_PACK)
    assert _index_state(pg_server, gallery) is True
    assert gallery.face_count() == 100  # the failed write left the gallery as it was


def test_a_small_load_keeps_the_index_throughout(pg_server: PgServer) -> None:
    gallery = _gallery(pg_server)
    gallery.import_records(lambda: iter(_records(100, seed=4)), pack=TEST_PACK)
    with gallery.bulk_load(BULK_LOAD_MIN_FACES - 1):
        assert _index_state(pg_server, gallery) is True
        gallery.import_records(lambda: iter(_records(100, seed=5)[PEOPLE:]), pack=TEST_PACK)
    assert _index_state(pg_server, gallery) is True and gallery.face_count() == 200


def test_an_interrupted_concurrent_build_is_replaced_by_a_valid_index(pg_server: PgServer) -> None:
    gallery = _gallery(pg_server)
    gallery.import_records(lambda: iter(_records(2000, seed=6)), pack=TEST_PACK)
    name = sql.Identifier("frs", index_name(gallery.gallery_id))
    with psycopg.connect(pg_server.uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP INDEX {}").format(name))
        conn.execute("SET statement_timeout = '5ms'")  # a build cancelled midway, as a killed load leaves it
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute(
                sql.SQL(
                    "CREATE INDEX CONCURRENTLY {} ON frs.faces USING hnsw "
                    "((embedding::vector({})) vector_cosine_ops) WHERE gallery_id = {}"
                ).format(
                    sql.Identifier(index_name(gallery.gallery_id)),
                    sql.Literal(TEST_PACK.dim),
                    sql.Literal(gallery.gallery_id),
                )
            )
    assert _index_state(pg_server, gallery) is False
    gallery.build_index()
    assert _index_state(pg_server, gallery) is True


def test_the_build_memory_setting_is_applied_and_then_reset(pg_server: PgServer) -> None:
    gallery = open_pgvector_gallery(pg_server.uri, f"bulk_{uuid.uuid4().hex[:12]}")
    gallery._index_build_memory = "96MB"  # what FRS_PG_INDEX_BUILD_MEMORY sets (see test_config)
    data = _records(BULK_LOAD_MIN_FACES, seed=7)
    with gallery.bulk_load(BULK_LOAD_MIN_FACES):
        gallery.import_records(lambda: iter(data), pack=TEST_PACK)
    assert _index_state(pg_server, gallery) is True
    # The cached connection is back at the server's value for everything else it runs.
    assert gallery._db.run(lambda conn: conn.execute("SHOW maintenance_work_mem").fetchone()) != ("96MB",)
