"""Benchmark the pgvector gallery: bulk load, HNSW build, search latency and recall@k against exact numpy.

    .venv/bin/python scripts/bench_pgvector.py --faces 100000 --dim 512
    .venv/bin/python scripts/bench_pgvector.py --faces 1000000 --dim 128 --queries 20
    .venv/bin/python scripts/bench_pgvector.py --uri postgresql://... --faces 100000   # an existing server

Without ``--uri`` a throw-away pgserver (PostgreSQL 16 + pgvector 0.6, Unix socket only) is started with
``shared_buffers`` / ``maintenance_work_mem`` raised so the index builds in memory; with ``--uri`` the
benchmark uses its own gallery name in that database and leaves it there.

Data: ``--faces`` embeddings, two per identity, around identity centres that lie near a 32-d subspace
(``--data clustered``, like real face embeddings) or uniformly at random (``--data uniform``: the worst case
for any graph index, where ranks 2..k are all at nearly the same distance). Queries are new noisy samples of
enrolled identities. Faces are loaded with binary COPY (the gallery's own add path is timed separately on a
small sample, with the index in place), then the gallery's HNSW index is built once and the table ANALYZEd.
Search latency is per query through ``PgVectorGallery.search`` (one face per call), after warm-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.gallery.pgvector.connection import PgVector, register_vector
from frs.gallery.pgvector.schema import create_gallery_index, drop_gallery_index, index_name
from frs.gallery.pgvector.search import (
    DEFAULT_EF_SEARCH,
    candidate_count,
    exact_identities_sql,
    nearest_faces_sql,
)
from frs.gallery.pgvector.store import PgVectorGallery, open_pgvector_gallery
from frs.gallery.types import NewFace
from frs.packs.info import PackInfo

Matrix = np.ndarray[Any, np.dtype[np.float32]]


def make_data(
    rng: np.random.Generator, n_faces: int, dim: int, kind: str
) -> tuple[Matrix, Matrix, np.ndarray[Any, np.dtype[np.int64]]]:
    """Identity centres, face embeddings (2 per identity, rows 2i and 2i+1 belong to identity i), owners."""
    n_identities = n_faces // 2
    if kind == "clustered":
        basis = rng.standard_normal((32, dim), dtype=np.float32)
        centres = rng.standard_normal((n_identities, 32), dtype=np.float32) @ basis
    else:
        centres = rng.standard_normal((n_identities, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    faces = np.empty((2 * n_identities, dim), dtype=np.float32)
    for start in range(0, 2 * n_identities, 100_000):  # chunks keep peak memory near the final matrix
        stop = min(start + 100_000, 2 * n_identities)
        block = centres[np.arange(start, stop) // 2] + (
            rng.standard_normal((stop - start, dim), dtype=np.float32) / np.sqrt(dim)
        )
        faces[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return centres, faces, np.arange(2 * n_identities, dtype=np.int64) // 2


def exact_top_k(queries: Matrix, faces: Matrix, top_k: int) -> tuple[list[set[int]], Matrix]:
    """Exact top-k identities per query (max over an identity's two faces), plus the best identity score."""
    best_sets: list[set[int]] = []
    best_scores = np.empty(len(queries), dtype=np.float32)
    for q, query in enumerate(queries):
        scores = faces @ query
        per_identity = np.maximum(scores[0::2], scores[1::2])
        top = np.argpartition(-per_identity, top_k)[:top_k]
        best_sets.append({int(i) for i in top})
        best_scores[q] = per_identity.max()
    return best_sets, best_scores


def bulk_load(uri: str, gallery: PgVectorGallery, faces: Matrix, pack: PackInfo) -> float:
    """COPY identities and faces straight into the gallery's tables (index dropped); returns seconds."""
    gallery_id = gallery.gallery_id
    n_identities = len(faces) // 2
    started = time.perf_counter()
    with psycopg.connect(uri) as conn:
        register_vector(conn)
        drop_gallery_index(conn, gallery_id)
        with conn.cursor() as cur:
            with cur.copy("COPY frs.identities (gallery_id, name) FROM STDIN") as copy:
                for i in range(n_identities):
                    copy.write_row((gallery_id, f"id{i:07d}"))
            cur.execute("SELECT id, name FROM frs.identities WHERE gallery_id = %s", (gallery_id,))
            ids = {name: ident for ident, name in cur.fetchall()}
            columns = "face_id, identity_id, gallery_id, embedding, pack, dim, det_score, bbox, image_sha256"
            with cur.copy(f"COPY frs.faces ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(
                    ["uuid", "int8", "int8", "vector", "text", "int4", "float8", "float8[]", "text"]
                )
                for row, embedding in enumerate(faces):
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            ids[f"id{row // 2:07d}"],
                            gallery_id,
                            PgVector(embedding),
                            pack.name,
                            pack.dim,
                            0.9,
                            [0.0, 0.0, 1.0, 1.0],
                            hashlib.sha256(f"bench-{row}".encode()).hexdigest(),
                        )
                    )
        conn.commit()
    return time.perf_counter() - started


def build_index(uri: str, gallery_id: int, dim: int, maintenance_work_mem: str) -> float:
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
        started = time.perf_counter()
        create_gallery_index(conn, gallery_id, dim)
        elapsed = time.perf_counter() - started
        conn.execute("ANALYZE frs.faces")
        conn.execute("ANALYZE frs.identities")
    return elapsed


def sizes(uri: str, gallery_id: int) -> dict[str, float]:
    mib = 1024.0 * 1024.0
    with psycopg.connect(uri) as conn:
        row = conn.execute(
            "SELECT pg_total_relation_size('frs.faces'), pg_relation_size('frs.faces'), "
            "pg_relation_size(%s::regclass), pg_total_relation_size('frs.identities')",
            (f"frs.{index_name(gallery_id)}",),
        ).fetchone()
    assert row is not None
    return {
        "faces_total_mib": round(row[0] / mib, 1),
        "faces_heap_mib": round(row[1] / mib, 1),
        "hnsw_index_mib": round(row[2] / mib, 1),
        "identities_total_mib": round(row[3] / mib, 1),
    }


def uses_index(uri: str, gallery: PgVectorGallery, query: Matrix, dim: int) -> bool:
    with psycopg.connect(uri) as conn:
        register_vector(conn)
        plan = conn.execute(
            psycopg.sql.SQL("EXPLAIN ") + nearest_faces_sql(gallery.gallery_id, dim, 200),
            {"q": PgVector(query)},
        ).fetchall()
    return any(index_name(gallery.gallery_id) in str(r[0]) for r in plan)


def exact_latency_ms(uri: str, gallery_id: int, queries: Matrix, top_k: int) -> float:
    """Median ms of the exact (sequential scan) identity query, for comparison with the index."""
    timings = []
    with psycopg.connect(uri) as conn:
        register_vector(conn)
        for query in queries:
            started = time.perf_counter()
            conn.execute(exact_identities_sql(gallery_id, top_k), {"q": PgVector(query)}).fetchall()
            timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def time_enrol(gallery: PgVectorGallery, pack: PackInfo, rng: np.random.Generator, n: int) -> float:
    """Median ms of one ``add_face`` (one transaction, index maintained) over ``n`` new identities."""
    timings = []
    for i in range(n):
        vector = rng.standard_normal(pack.dim, dtype=np.float32)
        sha = hashlib.sha256(f"enrol-{i}".encode()).hexdigest()
        face = NewFace(vector / np.linalg.norm(vector), 0.9, (0.0, 0.0, 1.0, 1.0), sha)
        started = time.perf_counter()
        gallery.add_face(f"enrol{i:05d}", face, pack=pack)
        timings.append(time.perf_counter() - started)
    for i in range(n):
        gallery.delete_identity(f"enrol{i:05d}")
    return 1000 * statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=50, help="timed queries (at least 10)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--data", choices=["clustered", "uniform"], default="clustered")
    parser.add_argument("--uri", help="an existing PostgreSQL with pgvector (default: start pgserver)")
    parser.add_argument("--maintenance-work-mem", default="2GB")
    parser.add_argument("--enrol-samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ef-search",
        type=lambda text: [int(v) for v in text.split(",")],
        default=[DEFAULT_EF_SEARCH],
        help="comma-separated ef_search values to sweep over the same index (default: FRS's default)",
    )
    args = parser.parse_args()
    if args.queries < 10:
        parser.error("--queries must be at least 10")

    server = None
    uri = args.uri
    if uri is None:
        from harness.postgres import start_pg_server

        server = start_pg_server()
        with psycopg.connect(server.uri, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET shared_buffers = '4GB'")
            conn.execute("ALTER SYSTEM SET max_parallel_maintenance_workers = 1")
        server.stop()
        server.start()
        uri = server.uri
    try:
        return run(uri, args)
    finally:
        if server is not None:
            server.close()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(uri: str, args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    pack = PackInfo(f"bench-{args.dim}", args.dim)

    started = time.perf_counter()
    centres, faces, _owners = make_data(rng, args.faces, args.dim, args.data)
    log(f"generated {len(faces)} x {args.dim} ({args.data}) in {time.perf_counter() - started:.1f}s")

    gallery = open_pgvector_gallery(uri, f"bench_{uuid.uuid4().hex[:10]}")
    seed_face = NewFace(faces[0], 0.9, (0.0, 0.0, 1.0, 1.0), "0" * 64)
    gallery.add_face("seed", seed_face, pack=pack)  # binds the pack (and creates the index, dropped below)
    gallery.delete_identity("seed")

    load_s = bulk_load(uri, gallery, faces, pack)
    log(f"loaded in {load_s:.1f}s")
    build_s = build_index(uri, gallery.gallery_id, args.dim, args.maintenance_work_mem)
    log(f"index built in {build_s:.1f}s")

    picks = rng.choice(len(centres), size=args.queries + 3, replace=False)
    noisy = centres[picks] + rng.standard_normal((len(picks), args.dim), dtype=np.float32) / np.sqrt(args.dim)
    queries = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
    truth, best = exact_top_k(queries[3:], faces, args.top_k)

    sweep = []
    for ef_search in args.ef_search:
        # A gallery object per setting, as a deployment with FRS ef_search=<n> would open it.
        tuned = open_pgvector_gallery(uri, gallery.name, ef_search=ef_search)
        for query in queries[:3]:  # warm-up: caches and the connection
            tuned.search(query[None, :], pack=pack, top_k=args.top_k)
        latencies, results = [], []
        for query in queries[3:]:
            t0 = time.perf_counter()
            results.append(tuned.search(query[None, :], pack=pack, top_k=args.top_k)[0])
            latencies.append(time.perf_counter() - t0)
        hits = sum(len(t & {int(c.name[2:]) for c in r}) for t, r in zip(truth, results, strict=True))
        top1 = sum(abs(r[0].similarity - float(b)) < 1e-4 for r, b in zip(results, best, strict=True))
        sweep.append(
            {
                "ef_search": candidate_count(args.top_k, ef_search),
                "search_median_ms": round(1000 * statistics.median(latencies), 2),
                "search_p90_ms": round(1000 * float(np.percentile(latencies, 90)), 2),
                f"recall_at_{args.top_k}": round(hits / (args.top_k * len(latencies)), 4),
                "top1_exact_fraction": round(top1 / len(latencies), 4),
            }
        )
        log(f"ef_search {ef_search}: {sweep[-1]}")

    exact_ms = exact_latency_ms(uri, gallery.gallery_id, queries[3:13], args.top_k)
    report = {
        "faces": len(faces),
        "identities": len(centres),
        "dim": args.dim,
        "data": args.data,
        "top_k": args.top_k,
        "queries": args.queries,
        "index_used": uses_index(uri, gallery, queries[0], args.dim),
        "load_copy_s": round(load_s, 1),
        "index_build_s": round(build_s, 1),
        "hnsw": sweep,
        "exact_scan_median_ms": round(exact_ms, 1),
        "enrol_add_face_median_ms": round(time_enrol(gallery, pack, rng, args.enrol_samples), 2),
        **sizes(uri, gallery.gallery_id),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
