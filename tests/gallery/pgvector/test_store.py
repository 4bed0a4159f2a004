"""PostgreSQL + pgvector specifics: concurrency across processes, lost connections, errors, index and recall.

Behaviour shared with the SQLite backend is in test_contract.py. Everything here runs against a real server
(pgserver: PostgreSQL 16 + pgvector 0.6 on a Unix socket), started once per session.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import socket
import uuid
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql

from frs.errors import FRSError
from frs.gallery.pgvector.connection import PgVector, redact_uri, register_vector
from frs.gallery.pgvector.schema import LATEST_VERSION, create_gallery_index, drop_gallery_index, index_name
from frs.gallery.pgvector.search import nearest_faces_sql
from frs.gallery.pgvector.store import PgVectorGallery, open_pgvector_gallery
from frs.gallery.types import NewFace
from frs.packs.info import PackInfo
from harness.postgres import PgServer, shared_pg_server, start_pg_server
from tests.gallery.synthetic import TEST_PACK, FaceMaker

WORKERS = 6
IDENTITIES_PER_WORKER = 20


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    return shared_pg_server()


def new_gallery(uri: str) -> PgVectorGallery:
    return open_pgvector_gallery(uri, f"g_{uuid.uuid4().hex[:12]}")


def frs_backends(admin_uri: str, database_uri: str) -> set[int]:
    """Server pids of FRS sessions (application_name 'frs') on the database of ``database_uri``."""
    dbname = psycopg.conninfo.conninfo_to_dict(database_uri)["dbname"]
    with psycopg.connect(admin_uri, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'frs'", (dbname,)
        ).fetchall()
    return {int(r[0]) for r in rows}


def terminate(admin_uri: str, pids: set[int]) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


# ----- concurrency -----------------------------------------------------------------------------------------


def _enrol_worker(uri: str, gallery: str, worker: int, barrier: Any, results: Any) -> None:
    """Runs in a spawned process: cold start (schema + gallery row) and 20+2 adds, all racing the others."""
    try:
        barrier.wait(timeout=60)
        g = open_pgvector_gallery(uri, gallery)
        maker = FaceMaker()
        for i in range(IDENTITIES_PER_WORKER):
            g.add_face(f"w{worker}-{i:02d}", maker.face(f"w{worker}-{i}"), pack=TEST_PACK)
        g.add_face("shared", maker.face(f"shared-{worker}"), pack=TEST_PACK)
        same = g.add_face("same-image", maker.face("same-image"), pack=TEST_PACK)
        results.put((worker, same.created, same.face_id, None))
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put((worker, None, None, repr(exc)))


def test_concurrent_processes_enrol_everything(pg_server: PgServer) -> None:
    uri = pg_server.create_database()  # fresh: the workers also race the schema migration
    gallery = f"g_{uuid.uuid4().hex[:12]}"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_enrol_worker, args=(uri, gallery, w, barrier, results)) for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [o[3] for o in outcomes] == [None] * WORKERS, outcomes

    g = open_pgvector_gallery(uri, gallery)
    names = [i.name for i in g.list(page_size=1000).identities]
    expected = [f"w{w}-{i:02d}" for w in range(WORKERS) for i in range(IDENTITIES_PER_WORKER)]
    assert sorted(names) == sorted([*expected, "shared", "same-image"])
    assert g.get("shared").face_count == WORKERS
    same = g.get("same-image")
    assert same.face_count == 1
    assert sum(1 for o in outcomes if o[1]) == 1  # exactly one worker created it, the rest got created=False
    assert {o[2] for o in outcomes} == {same.faces[0].face_id}
    with psycopg.connect(uri) as conn:
        versions = conn.execute("SELECT version FROM frs.schema_migrations ORDER BY version").fetchall()
        indexes = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'faces_hnsw_g%'"
        ).fetchone()
    assert [v[0] for v in versions] == list(range(1, LATEST_VERSION + 1))
    assert indexes == (1,)


# ----- connections and errors ------------------------------------------------------------------------------


def test_dropped_connection_is_reestablished(pg_server: PgServer, faces: FaceMaker) -> None:
    uri = pg_server.create_database()
    g = new_gallery(uri)
    g.add_face("Ada", faces.face("ada"), pack=TEST_PACK)
    before = frs_backends(pg_server.uri, uri)
    assert len(before) == 1

    terminate(pg_server.uri, before)  # e.g. a failover, or an idle timeout while Lambda was frozen
    assert g.get("Ada").face_count == 1  # transparently reconnected and retried
    after = frs_backends(pg_server.uri, uri)
    assert len(after) == 1 and not after & before

    terminate(pg_server.uri, after)  # writes too
    assert g.add_face("Ada", faces.face("ada-2"), pack=TEST_PACK).face_count == 2


def test_stopped_server_is_storage_unavailable(faces: FaceMaker) -> None:
    server = start_pg_server()  # our own server: stopping the shared one would disturb other tests
    try:
        g = new_gallery(server.uri)
        g.add_face("Ada", faces.face("ada"), pack=TEST_PACK)
        server.stop()
        for call in (lambda: g.get("Ada"), lambda: g.add_face("Bob", faces.face("b"), pack=TEST_PACK)):
            with pytest.raises(FRSError) as err:
                call()
            assert err.value.code == "storage_unavailable"
            assert "postgresql://" in err.value.message
        server.start()
        assert g.get("Ada").face_count == 1  # back without reopening anything
        assert g.list().identities[0].name == "Ada"
    finally:
        server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_errors_are_classified_without_secrets(pg_server: PgServer) -> None:
    secret = "hunter2-Secret"
    socket_dir = psycopg.conninfo.conninfo_to_dict(pg_server.uri)["host"]
    cases = {
        f"postgresql://frs:{secret}@127.0.0.1:{_free_port()}/frs": "storage_unavailable",
        f"postgresql://nobody:{secret}@/postgres?host={socket_dir}": "storage_misconfigured",
        f"postgresql://postgres:{secret}@/no_such_db?host={socket_dir}": "storage_misconfigured",
        f"postgresql://frs:{secret}@localhost/db?no_such_option=1": "storage_misconfigured",
    }
    for uri, code in cases.items():
        with pytest.raises(FRSError) as err:
            open_pgvector_gallery(uri, "g")
        assert err.value.code == code, (uri, err.value.message)
        assert secret not in err.value.message and secret not in str(err.value.to_dict())
        assert err.value.__cause__ is None  # the driver error (and any secret in it) is not chained


def test_redact_uri_drops_the_password() -> None:
    assert redact_uri("postgresql://app:p%40ss@db.example.com:5432/frs?sslmode=require") == (
        "postgresql://app@db.example.com:5432/frs"
    )
    assert redact_uri("postgresql:///frs?host=/run/pg&password=x") == "postgresql:///frs?host=/run/pg"
    assert "x" not in redact_uri("postgresql://u:x@/d?bad=1").replace("postgresql", "")


def test_invalid_gallery_name_and_settings(pg_server: PgServer) -> None:
    with pytest.raises(FRSError) as err:
        open_pgvector_gallery(pg_server.uri, "../etc")
    assert err.value.code == "bad_request"
    for ef_search in (0, 1001):
        with pytest.raises(FRSError) as err:
            open_pgvector_gallery(pg_server.uri, "fine", ef_search=ef_search)
        assert err.value.code == "storage_misconfigured"


def test_reads_of_an_unwritten_gallery_write_nothing(pg_server: PgServer, faces: FaceMaker) -> None:
    name = f"g_{uuid.uuid4().hex[:12]}"
    g = open_pgvector_gallery(pg_server.uri, name)
    assert g.pack() is None and g.list().identities == ()
    assert g.search(faces.embedding("q")[None, :], pack=TEST_PACK, top_k=1) == [[]]
    with pytest.raises(FRSError) as err:
        g.delete_identity("Ada")
    assert err.value.code == "not_found"
    with psycopg.connect(pg_server.uri) as conn:
        assert conn.execute("SELECT count(*) FROM frs.galleries WHERE name = %s", (name,)).fetchone() == (0,)
    g.add_face("Ada", faces.face("ada"), pack=TEST_PACK)
    assert open_pgvector_gallery(pg_server.uri, name).get("Ada").face_count == 1


def test_metadata_with_nul_is_bad_request(pg_server: PgServer, faces: FaceMaker) -> None:
    g = new_gallery(pg_server.uri)
    with pytest.raises(FRSError) as err:
        g.add_face("Ada", faces.face("ada"), pack=TEST_PACK, metadata={"note": "a\x00b"})
    assert err.value.code == "bad_request"
    assert g.pack() is None


# ----- schema: dimensions, index, recall -------------------------------------------------------------------


def test_galleries_of_different_dimensions_share_the_database(pg_server: PgServer) -> None:
    narrow, wide = PackInfo("narrow", 64), PackInfo("wide", 512)
    g_narrow, g_wide = new_gallery(pg_server.uri), new_gallery(pg_server.uri)
    maker = FaceMaker()
    g_narrow.add_face("Ada", maker.face("ada", dim=64), pack=narrow)
    g_wide.add_face("Ada", maker.face("ada", dim=512), pack=wide)
    assert g_narrow.search(maker.embedding("ada", 64)[None, :], pack=narrow, top_k=1)[0][0].similarity == (
        pytest.approx(1.0, abs=1e-6)
    )
    assert g_wide.search(maker.embedding("ada", 512)[None, :], pack=wide, top_k=1)[0][0].name == "Ada"
    with pytest.raises(FRSError) as err:
        g_wide.search(maker.embedding("ada", 64)[None, :], pack=narrow, top_k=1)
    assert err.value.code == "pack_mismatch"
    with psycopg.connect(pg_server.uri) as conn:
        defs: dict[str, str] = dict(
            conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN (%s, %s)",
                (index_name(g_narrow.gallery_id), index_name(g_wide.gallery_id)),
            ).fetchall()
        )
    assert "vector(64)" in defs[index_name(g_narrow.gallery_id)]
    assert "vector(512)" in defs[index_name(g_wide.gallery_id)]
    wide_def = defs[index_name(g_wide.gallery_id)]
    assert "USING hnsw" in wide_def and "vector_cosine_ops" in wide_def


def test_pack_above_the_hnsw_limit_is_searched_exactly(pg_server: PgServer) -> None:
    huge = PackInfo("huge", 2048)  # pgvector cannot index more than 2000 dimensions
    g, maker = new_gallery(pg_server.uri), FaceMaker()
    g.add_faces([(n, maker.face(n, dim=huge.dim), None) for n in ("Ada", "Bob", "Cy")], pack=huge)
    hits = g.search(maker.embedding("Bob", huge.dim)[None, :], pack=huge, top_k=2)[0]
    assert hits[0].name == "Bob" and hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    with psycopg.connect(pg_server.uri) as conn:
        query = "SELECT count(*) FROM pg_indexes WHERE indexname = %s"
        assert conn.execute(query, (index_name(g.gallery_id),)).fetchone() == (0,)


def _clustered_embeddings(
    rng: np.random.Generator, n_identities: int, dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two faces per identity around a centre; centres lie near a 32-d subspace, as real face embeddings do.

    Uniformly random high-dimensional points have no near neighbours to find (ranks 2..5 are all at the same
    distance), which no face model produces; scripts/bench_pgvector.py reports that worst case too.
    """
    basis = rng.standard_normal((32, dim)).astype(np.float32)
    centres = rng.standard_normal((n_identities, 32)).astype(np.float32) @ basis
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.standard_normal((2 * n_identities, dim)).astype(np.float32) / np.sqrt(dim)
    faces = np.repeat(centres, 2, axis=0) + noise
    faces /= np.linalg.norm(faces, axis=1, keepdims=True)
    return centres, faces.astype(np.float32)


def test_hnsw_index_is_used_and_recall_matches_exact(pg_server: PgServer) -> None:
    dim, n_identities, n_queries, top_k = 128, 10_000, 200, 5
    pack = PackInfo("recall-pack", dim)
    rng = np.random.default_rng(2024)
    centres, embeddings = _clustered_embeddings(rng, n_identities, dim)
    owners = np.arange(len(embeddings)) // 2
    g = new_gallery(pg_server.uri)

    def face(row: int) -> tuple[str, NewFace, None]:
        sha = hashlib.sha256(f"img-{row}".encode()).hexdigest()
        return (f"id{owners[row]:05d}", NewFace(embeddings[row], 0.9, (0.0, 0.0, 1.0, 1.0), sha), None)

    # Bulk load as an operator would: bind, drop the index, insert, build the index once, ANALYZE.
    g.add_faces([face(0)], pack=pack)
    with psycopg.connect(pg_server.uri, autocommit=True) as conn:
        drop_gallery_index(conn, g.gallery_id)
        for start in range(1, len(embeddings), 5000):
            g.add_faces([face(r) for r in range(start, min(start + 5000, len(embeddings)))], pack=pack)
        conn.execute("SET maintenance_work_mem = '256MB'")
        create_gallery_index(conn, g.gallery_id, dim)
        conn.execute("ANALYZE frs.faces")
        register_vector(conn)
        explain = sql.SQL("EXPLAIN ") + nearest_faces_sql(g.gallery_id, dim, 200)
        rows = conn.execute(explain, {"q": PgVector(embeddings[0])}).fetchall()
        plan = "\n".join(str(r[0]) for r in rows)
    assert f"Index Scan using {index_name(g.gallery_id)}" in plan, plan

    queries = centres[:n_queries] + rng.standard_normal((n_queries, dim)).astype(np.float32) / np.sqrt(dim)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    results = g.search(queries, pack=pack, top_k=top_k)

    scores = queries @ embeddings.T
    per_identity = np.maximum(scores[:, 0::2], scores[:, 1::2])  # faces 2i and 2i+1 belong to identity i
    found = 0
    for q, hits in enumerate(results):
        exact = {f"id{i:05d}" for i in np.argsort(-per_identity[q])[:top_k]}
        found += len(exact & {h.name for h in hits})
        best = hits[0]
        assert best.similarity == pytest.approx(float(per_identity[q, int(best.name[2:])]), abs=1e-5)
    recall = found / (top_k * n_queries)
    assert recall >= 0.99, recall

    # Faces added after the build go into the index (pgvector maintains it on insert).
    fresh = FaceMaker().face("late-arrival", dim=dim)
    g.add_face("late", fresh, pack=pack)
    assert g.search(fresh.embedding[None, :], pack=pack, top_k=1)[0][0].name == "late"


def test_the_face_count_is_cached_for_the_ttl_and_forgotten_on_own_writes(
    pg_server: PgServer, faces: FaceMaker
) -> None:
    now = [0.0]
    name = f"g_{uuid.uuid4().hex[:12]}"
    mine = open_pgvector_gallery(pg_server.uri, name)
    counted = PgVectorGallery(mine._db, name, count_ttl=5.0, clock=lambda: now[0])
    assert counted.face_count() == 0
    counted.add_face("A", faces.face("a1"), pack=TEST_PACK)
    assert counted.face_count() == 1  # its own write: counted again at once
    mine.add_face("B", faces.face("b1"), pack=TEST_PACK)  # another instance's write
    assert counted.face_count() == 1  # within the TTL the cached count answers
    now[0] = 5.0
    assert counted.face_count() == 2
