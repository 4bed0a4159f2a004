"""Schema of the pgvector gallery: versioned migrations plus one HNSW index per gallery.

Why one index per gallery, on an untyped column
    A gallery holds one pack, but packs differ in dimension (128, 512, ...) and pgvector only indexes a column
    whose dimension is fixed. ``faces.embedding`` is therefore an untyped ``vector`` (a CHECK ties it to
    ``faces.dim``) and each gallery, when it is bound to a pack, gets a *partial expression* index::

        CREATE INDEX faces_hnsw_g<id> ON frs.faces
            USING hnsw ((embedding::vector(<dim>)) vector_cosine_ops) WHERE gallery_id = <id>

    This is the layout pgvector's documentation recommends for mixed dimensions. Compared with a table per
    dimension sharing one index, each gallery has its own graph: a search never has to post-filter neighbours
    of other galleries (pgvector 0.6 filters *after* the ``hnsw.ef_search`` candidates are found, so a small
    gallery next to a big one would lose recall). The costs: one index per gallery, so planning time grows
    with the number of galleries (fine for the tens to hundreds FRS expects, not for thousands); and the
    index is created when a gallery is bound, inside its first write, so inserts into ``frs.faces`` by other
    galleries wait until that first write commits (building the empty index itself takes milliseconds).
    Queries must repeat the expression and the predicate literally, which
    :func:`frs.gallery.pgvector.search.nearest_faces_sql` does.

Migrations run once per cold start at most, under a transaction-scoped advisory lock so that concurrent cold
starts do not race; applied versions are recorded in ``frs.schema_migrations``.
"""

from __future__ import annotations

from typing import LiteralString

import psycopg.errors
from psycopg import sql

from frs.errors import FRSError
from frs.gallery.pgvector.connection import Connection, Database, register_vector

SCHEMA = "frs"
#: pgvector's HNSW limit for ``vector``; bigger packs are searched exactly.
HNSW_MAX_DIM = 2000
#: Graph degree and build beam width: pgvector's defaults. A wider beam (200) doubled the build time for
#: +0.001-0.003 recall@5 on 20k vectors; ef_search at query time is the knob that matters.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
_LOCK_KEY = 0x46525300_5047  # "FRS\0PG": arbitrary, constant across deployments

_V1: tuple[LiteralString, ...] = (
    """
    CREATE TABLE frs.galleries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        pack text,
        dim integer CHECK (dim > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((pack IS NULL) = (dim IS NULL))
    )
    """,
    """
    CREATE TABLE frs.identities (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        gallery_id bigint NOT NULL REFERENCES frs.galleries (id) ON DELETE CASCADE,
        name text COLLATE "C" NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (gallery_id, name),
        UNIQUE (id, gallery_id)
    )
    """,
    """
    CREATE TABLE frs.faces (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        face_id uuid PRIMARY KEY,
        identity_id bigint NOT NULL,
        gallery_id bigint NOT NULL,
        embedding vector NOT NULL,
        pack text NOT NULL,
        dim integer NOT NULL,
        det_score double precision NOT NULL,
        bbox double precision[] NOT NULL CHECK (cardinality(bbox) = 4),
        image_sha256 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (identity_id, image_sha256),
        FOREIGN KEY (identity_id, gallery_id) REFERENCES frs.identities (id, gallery_id) ON DELETE CASCADE,
        CHECK (vector_dims(embedding) = dim)
    )
    """,
    # Keep embeddings in the row (out of line only if a row outgrows its page): a 512-d vector is just over
    # TOAST's 2 kB threshold, and fetching it from the TOAST table would slow every distance in a query.
    "ALTER TABLE frs.faces ALTER COLUMN embedding SET STORAGE MAIN",
    "CREATE INDEX faces_gallery_seq ON frs.faces (gallery_id, seq)",
)

_V2: tuple[LiteralString, ...] = (
    # Each face's photo source (re-enrolment on another pack) and quality score; NULL for older faces.
    "ALTER TABLE frs.faces ADD COLUMN source text",
    "ALTER TABLE frs.faces ADD COLUMN quality double precision",
    # Streaming a gallery in face_id order (export, copy, checksums) without sorting it.
    "CREATE INDEX faces_gallery_face ON frs.faces (gallery_id, face_id)",
)

_V3: tuple[LiteralString, ...] = (
    # Retention: when an identity expires (NULL: never), and a gallery's default retention for identities
    # created later (NULL: none). Searches leave expired identities out; the purge deletes them.
    "ALTER TABLE frs.identities ADD COLUMN expires_at timestamptz",
    "CREATE INDEX identities_expires_at ON frs.identities (gallery_id, expires_at) "
    "WHERE expires_at IS NOT NULL",
    "ALTER TABLE frs.galleries ADD COLUMN retention_days double precision "
    "CHECK (retention_days > 0 AND retention_days <= 36500)",
)

#: (version, statements). Append only; never edit an applied migration.
MIGRATIONS: tuple[tuple[int, tuple[LiteralString, ...]], ...] = ((1, _V1), (2, _V2), (3, _V3))
LATEST_VERSION = MIGRATIONS[-1][0]


def _current_version(conn: Connection) -> int:
    # A catalog *query*, not to_regclass(): after waiting for the advisory lock, to_regclass may still answer
    # from this session's stale catalog cache and miss a table another session just created.
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables "
        "WHERE schemaname = 'frs' AND tablename = 'schema_migrations')"
    ).fetchone()
    if row is None or not row[0]:
        return 0
    version = conn.execute("SELECT coalesce(max(version), 0) FROM frs.schema_migrations").fetchone()
    return int(version[0]) if version else 0


def _ensure_extension(conn: Connection) -> None:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    try:
        with conn.transaction():  # a savepoint, so the failure message is ours
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.errors.InsufficientPrivilege:
        raise FRSError(
            "storage_misconfigured",
            "the pgvector extension is not installed and this role may not create it; "
            "run CREATE EXTENSION vector as an administrator",
        ) from None
    except (psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedFile, psycopg.errors.UndefinedObject):
        raise FRSError(
            "storage_misconfigured", "the pgvector extension is not available on this PostgreSQL server"
        ) from None


def _migrate(conn: Connection) -> None:
    if _current_version(conn) >= LATEST_VERSION:
        return
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    current = _current_version(conn)  # another process may have migrated while we waited
    if current >= LATEST_VERSION:
        return
    _ensure_extension(conn)
    if current == 0:
        conn.execute("CREATE SCHEMA IF NOT EXISTS frs")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS frs.schema_migrations ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO frs.schema_migrations (version) VALUES (%s)", (version,))


def _register_vector_type(conn: Connection) -> None:
    if not register_vector(conn):
        raise FRSError("storage_misconfigured", "the pgvector extension is not installed in this database")


def ensure_schema(db: Database) -> None:
    """Apply pending migrations (once per endpoint and process)."""
    if db.schema_ready:
        return
    db.run(_migrate)
    # In a new transaction: the one that waited for the migration lock may see a stale catalog cache.
    db.run(_register_vector_type)
    db.schema_ready = True


def index_name(gallery_id: int) -> str:
    return f"faces_hnsw_g{gallery_id}"


def create_gallery_index(conn: Connection, gallery_id: int, dim: int, *, concurrently: bool = False) -> None:
    """The HNSW index of one gallery (see the module docstring); a no-op above pgvector's dimension limit.

    ``concurrently`` (autocommit only): the build blocks no reads or writes of any gallery, which a bulk load
    needs, since building a big gallery's graph takes minutes.
    """
    if dim > HNSW_MAX_DIM:
        return
    conn.execute(
        sql.SQL(
            "CREATE INDEX {how} IF NOT EXISTS {name} ON frs.faces USING hnsw ((embedding::vector({dim})) "
            "vector_cosine_ops) WITH (m = {m}, ef_construction = {ef}) WHERE gallery_id = {gallery}"
        ).format(
            how=sql.SQL("CONCURRENTLY" if concurrently else ""),
            name=sql.Identifier(index_name(gallery_id)),
            dim=sql.Literal(int(dim)),
            m=sql.Literal(HNSW_M),
            ef=sql.Literal(HNSW_EF_CONSTRUCTION),
            gallery=sql.Literal(int(gallery_id)),
        )
    )


def drop_gallery_index(conn: Connection, gallery_id: int, *, concurrently: bool = False) -> None:
    """Drop a gallery's index (a bulk load builds it again at the end, much faster than inserting into it).
    ``concurrently`` (autocommit only): without the table lock that would stop every gallery's searches."""
    conn.execute(
        sql.SQL("DROP INDEX {how} IF EXISTS {schema}.{name}").format(
            how=sql.SQL("CONCURRENTLY" if concurrently else ""),
            schema=sql.Identifier(SCHEMA),
            name=sql.Identifier(index_name(gallery_id)),
        )
    )


def gallery_index_valid(conn: Connection, gallery_id: int) -> bool | None:
    """Whether the gallery's index is usable: None when it does not exist, False when a concurrent build
    was interrupted (PostgreSQL keeps such an index, invalid, until it is dropped)."""
    row = conn.execute(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (SCHEMA, index_name(gallery_id)),
    ).fetchone()
    return None if row is None else bool(row[0])
