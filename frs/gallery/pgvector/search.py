"""Top-k identity search in PostgreSQL: approximate (HNSW) first, exact when that cannot answer.

An identity's score is the max similarity over its faces. The HNSW index ranks *faces*, so one query fetches
the ``candidate_count(top_k)`` nearest faces of the gallery and aggregates them by identity. If those faces
were the exact nearest ones, the result is exact: an identity absent from them has every face below the last
candidate, hence below the best face of every identity present. ``hnsw.ef_search`` is raised to the candidate
count because pgvector 0.6 returns at most ``ef_search`` rows from an index scan (it has no iterative scan).

Recall trade-off: the graph search is approximate, so a true neighbour can be missed; raising ef_search
finds more of them for more latency. Measured with scripts/bench_pgvector.py (2 busy cores, median latency):

    faces x dim     data        ef_search=200            ef_search=400            exact scan
    100k x 512      clustered   recall@5 0.996, 17 ms    1.000, 27 ms             217 ms
    100k x 128      clustered   0.968, 10 ms             0.996, 17 ms              58 ms
    1M x 128        clustered   0.860, 12 ms             0.947, 32 ms             872 ms
    100k x 512      uniform     0.416 (top-1 0.78)       0.552 (top-1 0.90)       (ef 1000: top-1 1.00)

The top-1 identity, which matching decides on, was exact in every clustered run. Uniformly random vectors
(no structure for the graph to follow) are the worst case and show why the default is 400 rather than
pgvector's 40; deployments can raise it to 1000 (see ``open_pgvector_gallery(ef_search=...)``).

Exact paths: PostgreSQL's planner picks the index only when it is cheaper, so small galleries (and galleries
whose statistics still say "small" until autovacuum ANALYZEs them) run the same query as an exact sequential
scan. When the candidates name fewer than ``top_k`` identities (fewer identities than top_k, or identities
with very many faces), an explicitly exact query over the gallery's faces answers instead.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from frs.gallery.pgvector.connection import Connection, PgVector
from frs.gallery.pgvector.schema import HNSW_MAX_DIM
from frs.gallery.types import Candidate, Embedding

#: pgvector's upper bound for hnsw.ef_search.
EF_SEARCH_MAX = 1000
#: Default ef_search: the fewest faces the approximate query fetches (raise for recall, lower for speed).
DEFAULT_EF_SEARCH = 400
#: Faces fetched per wanted identity, when top_k asks for more than ef_search covers.
CANDIDATES_PER_RESULT = 10


def candidate_count(top_k: int, ef_search: int = DEFAULT_EF_SEARCH) -> int:
    """How many nearest faces the approximate query asks for (also the ef_search it runs with)."""
    return min(EF_SEARCH_MAX, max(ef_search, top_k * CANDIDATES_PER_RESULT))


def nearest_faces_sql(gallery_id: int, dim: int, limit: int) -> sql.Composed:
    """The index-backed nearest-faces query; parameter ``q`` is the query vector.

    The expression and predicate repeat the partial index definition literally, so the planner can use it.
    """
    return sql.SQL(
        "SELECT f.identity_id, f.embedding::vector({dim}) <=> %(q)s AS distance FROM frs.faces f "
        "WHERE f.gallery_id = {gallery} ORDER BY f.embedding::vector({dim}) <=> %(q)s LIMIT {limit}"
    ).format(dim=sql.Literal(int(dim)), gallery=sql.Literal(int(gallery_id)), limit=sql.Literal(int(limit)))


def _ranked_sql(faces: sql.Composable, top_k: int) -> sql.Composed:
    """Top-k live identities from ``faces`` (rows of identity_id, distance), best first, then their names.

    An identity whose ``expires_at`` has passed (at the transaction's ``now()``) is left out before ranking,
    so it is never returned, even before the purge deletes it; the nearest-faces query itself stays the
    index's (when expired faces crowd out the candidates, fewer than top_k identities remain and the exact
    query answers). Aggregating before joining keeps the join to k rows. Ties go to the older identity
    (smaller id), like the SQLite backend's in-memory matcher, which breaks ties by gallery order.
    """
    return sql.SQL(
        "SELECT i.name, 1 - best.distance AS similarity FROM ("
        "SELECT c.identity_id, min(c.distance) AS distance FROM ({faces}) c "
        "WHERE NOT EXISTS (SELECT 1 FROM frs.identities x WHERE x.id = c.identity_id "
        "AND x.expires_at <= now()) "
        "GROUP BY c.identity_id ORDER BY distance, c.identity_id LIMIT {top_k}"
        ") best JOIN frs.identities i ON i.id = best.identity_id ORDER BY best.distance, best.identity_id"
    ).format(faces=faces, top_k=sql.Literal(top_k))


def approximate_identities_sql(gallery_id: int, dim: int, top_k: int, candidates: int) -> sql.Composed:
    return _ranked_sql(nearest_faces_sql(gallery_id, dim, candidates), top_k)


def exact_identities_sql(gallery_id: int, top_k: int) -> sql.Composed:
    every_face = sql.SQL(
        "SELECT f.identity_id, f.embedding <=> %(q)s AS distance FROM frs.faces f "
        "WHERE f.gallery_id = {gallery}"
    ).format(gallery=sql.Literal(int(gallery_id)))
    return _ranked_sql(every_face, top_k)


def _candidates(rows: list[tuple[Any, ...]]) -> list[Candidate]:
    return [Candidate(name=str(name), similarity=min(1.0, max(-1.0, float(sim)))) for name, sim in rows]


def search_gallery(
    conn: Connection,
    gallery_id: int,
    dim: int,
    queries: Embedding,
    top_k: int,
    ef_search: int = DEFAULT_EF_SEARCH,
) -> list[list[Candidate]]:
    """Top-k identities for each query row; runs inside the caller's transaction."""
    use_index = dim <= HNSW_MAX_DIM
    candidates = candidate_count(top_k, ef_search)
    if use_index:
        # Transaction-local, and a function call rather than SET, so connection poolers (RDS Proxy,
        # PgBouncer in transaction mode) neither pin the session nor leak the setting to other clients.
        conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(candidates),))
    approximate = approximate_identities_sql(gallery_id, dim, top_k, candidates)
    exact = exact_identities_sql(gallery_id, top_k)
    results: list[list[Candidate]] = []
    for row in queries:
        params = {"q": PgVector(row)}
        found: list[tuple[Any, ...]] = []
        if use_index:
            found = conn.execute(approximate, params).fetchall()
        if len(found) < top_k:
            found = conn.execute(exact, params).fetchall()
        results.append(_candidates(found))
    return results


def identity_similarity_sql() -> sql.SQL:
    """Exact max similarity between ``q`` and the faces of identity ``identity_id`` (NULL if it has none)."""
    return sql.SQL(
        "SELECT max(1 - (f.embedding <=> %(q)s)) FROM frs.faces f WHERE f.identity_id = %(identity_id)s"
    )
