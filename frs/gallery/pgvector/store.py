"""The PostgreSQL + pgvector gallery backend (Aurora PostgreSQL in production).

``FRS_GALLERY_URI=postgresql://user:password@host:5432/db`` selects it. All galleries share one schema
``frs`` (see :mod:`frs.gallery.pgvector.schema` for the tables and the per-gallery HNSW index); a gallery is a
row in ``frs.galleries``. Every method is one transaction, so concurrent writers from many Lambda containers
are safe: identities are created with ``INSERT .. ON CONFLICT``, a re-added image hits the unique
``(identity_id, image_sha256)`` key, and binding a gallery to a pack is a conditional ``UPDATE``.

Validation and error codes are shared with the SQLite backend (:mod:`frs.gallery.validation`,
:mod:`frs.gallery.paging`), so both answer the same inputs the same way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.paging import decode_page_token, encode_page_token
from frs.gallery.pgvector.connection import Connection, Database, PgVector, database_for
from frs.gallery.pgvector.schema import create_gallery_index, ensure_schema
from frs.gallery.pgvector.search import (
    DEFAULT_EF_SEARCH,
    EF_SEARCH_MAX,
    identity_similarity_sql,
    search_gallery,
)
from frs.gallery.types import AddResult, Candidate, Embedding, FaceRecord, Identity, ListPage, NewFace
from frs.gallery.validation import (
    serialize_metadata,
    validate_embedding,
    validate_face_id,
    validate_gallery_name,
    validate_identity_name,
    validate_new_face,
    validate_pack,
    validate_page_size,
    validate_prefix,
    validate_queries,
    validate_top_k,
)
from frs.packs.info import PackInfo

#: Seconds a gallery's face count is reused (the Settings' sync TTL when opened through the factory): other
#: instances' writes show up within this long, this instance's own writes at once.
DEFAULT_COUNT_TTL = 5.0

T = TypeVar("T")

_FACE_COLUMNS = "f.face_id, f.pack, f.dim, f.det_score, f.bbox, f.image_sha256, f.created_at"


def _iso(moment: datetime) -> str:
    """UTC, ISO 8601 with milliseconds and a Z suffix (the format of every FRS backend)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _face_record(identity: str, row: tuple[Any, ...]) -> FaceRecord:
    face_id, pack, dim, det_score, bbox, image_sha256, created_at = row
    return FaceRecord(
        face_id=str(face_id),
        identity=identity,
        pack=str(pack),
        dim=int(dim),
        det_score=float(det_score),
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])),
        image_sha256=str(image_sha256),
        created_at=_iso(created_at),
    )


def _metadata_json(metadata: dict[str, Any] | None) -> str | None:
    if metadata is None:
        return None
    return serialize_metadata(metadata)  # also refuses NUL, which jsonb cannot store


def _mismatch(bound: PackInfo, pack: PackInfo) -> FRSError:
    return FRSError(
        "pack_mismatch",
        f"gallery holds embeddings of pack {bound.name!r} (dim {bound.dim}), "
        f"not {pack.name!r} (dim {pack.dim})",
    )


#: Identity columns start at 1, so this id matches no row: reads of a gallery never written see it empty.
_NO_GALLERY = 0


class PgVectorGallery:
    """One gallery stored in PostgreSQL; implements :class:`frs.gallery.types.Gallery`.

    Its ``frs.galleries`` row is created by the first write, so reading a gallery nobody wrote to writes
    nothing (like the SQLite backend, which creates no file).
    """

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        ef_search: int = DEFAULT_EF_SEARCH,
        count_ttl: float = DEFAULT_COUNT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._db = db
        self._ef_search = ef_search
        self._id: int | None = None
        self._pack: PackInfo | None = None  # cached once seen committed: a bound gallery never unbinds
        self._count_ttl = count_ttl
        self._clock = clock
        self._count: tuple[float, int] | None = None  # (when counted, faces)

    # ----- the gallery row ---------------------------------------------------------------------------------

    def _read_id(self, conn: Connection) -> int:
        """The gallery's row id, or ``_NO_GALLERY`` while it was never written."""
        if self._id is None:
            row = conn.execute("SELECT id FROM frs.galleries WHERE name = %s", (self.name,)).fetchone()
            if row is None:
                return _NO_GALLERY
            self._id = int(row[0])  # committed (we saw it), and galleries are never deleted
        return self._id

    def _write_id(self) -> int:
        """The gallery's row id, creating the row in its own transaction so a failed write cannot undo it."""
        if self._id is None:
            self._id = self._db.run(_create_gallery_row(self.name))
        return self._id

    @property
    def gallery_id(self) -> int:
        """Row id in ``frs.galleries`` (it also names the gallery's HNSW index); not_found if unwritten."""
        gallery_id = self._db.run(self._read_id)
        if gallery_id == _NO_GALLERY:
            raise FRSError("not_found", f"gallery {self.name!r} has never been written to")
        return gallery_id

    # ----- pack binding ------------------------------------------------------------------------------------

    @staticmethod
    def _bound_pack(conn: Connection, gallery_id: int) -> PackInfo | None:
        row = conn.execute("SELECT pack, dim FROM frs.galleries WHERE id = %s", (gallery_id,)).fetchone()
        if row is None or row[0] is None:
            return None
        return PackInfo(name=str(row[0]), dim=int(row[1]))

    def _known_pack(self, conn: Connection, gallery_id: int) -> PackInfo | None:
        """The bound pack, from the cache when possible (only for reads: see ``_require_pack``)."""
        if self._pack is None:
            self._pack = self._bound_pack(conn, gallery_id)
        return self._pack

    def _require_pack(self, conn: Connection, gallery_id: int, pack: PackInfo) -> None:
        """Bind an unbound gallery to ``pack`` (creating its index), or check that it matches.

        Never caches: a binding made here is not committed yet and may still roll back.
        """
        bound = self._pack or self._bound_pack(conn, gallery_id)
        if bound is None:
            # Row lock: of two concurrent first writers, the second re-checks after the first commits.
            claimed = conn.execute(
                "UPDATE frs.galleries SET pack = %s, dim = %s WHERE id = %s AND pack IS NULL RETURNING id",
                (pack.name, pack.dim, gallery_id),
            ).fetchone()
            if claimed is not None:
                create_gallery_index(conn, gallery_id, pack.dim)
                return
            bound = self._bound_pack(conn, gallery_id)
        if bound != pack:
            assert bound is not None  # a bound gallery never becomes unbound
            raise _mismatch(bound, pack)

    def pack(self) -> PackInfo | None:
        """The pack this gallery is bound to, or None while it is empty and unbound."""
        return self._db.run(lambda conn: self._known_pack(conn, self._read_id(conn)))

    # ----- writes ------------------------------------------------------------------------------------------

    def add_face(
        self, identity: str, face: NewFace, *, pack: PackInfo, metadata: dict[str, Any] | None = None
    ) -> AddResult:
        """Enrol one face, creating the identity if needed; ``pack_mismatch`` for another pack."""
        return self.add_faces([(identity, face, metadata)], pack=pack)[0]

    def add_faces(
        self,
        items: list[tuple[str, NewFace, dict[str, Any] | None]],
        *,
        pack: PackInfo,
    ) -> list[AddResult]:
        """Enrol many faces in one transaction; all or nothing.

        Metadata ``None`` keeps an identity's metadata, a dict replaces it. Re-adding the same image
        (``image_sha256``) to the same identity returns the existing face with ``created=False``.
        """
        pack = validate_pack(pack)
        checked = [
            (validate_identity_name(name), validate_new_face(face, pack.dim), _metadata_json(metadata))
            for name, face, metadata in items
        ]
        if not checked:
            return []
        # Lock identities in name order so two concurrent batches can never deadlock on each other.
        order = sorted(range(len(checked)), key=lambda i: checked[i][0])
        gallery_id = self._write_id()

        def work(conn: Connection) -> list[AddResult]:
            self._require_pack(conn, gallery_id, pack)
            results: dict[int, AddResult] = {}
            for i in order:
                name, face, meta = checked[i]
                results[i] = _add_one(conn, gallery_id, name, face, meta, pack)
            return [results[i] for i in range(len(checked))]

        return self._written(self._db.run(work))

    def delete_identity(self, name: str) -> int:
        """Delete an identity and all its faces; returns how many faces were removed."""
        name = validate_identity_name(name)

        def work(conn: Connection) -> int:
            # Lock the identity first: a concurrent add to it waits, so the count is exactly what goes.
            identity_id = _identity_id(conn, self._read_id(conn), name, lock=True)
            removed = conn.execute("DELETE FROM frs.faces WHERE identity_id = %s", (identity_id,)).rowcount
            conn.execute("DELETE FROM frs.identities WHERE id = %s", (identity_id,))
            return int(removed)

        return self._written(self._db.run(work))

    def delete_face(self, face_id: str) -> FaceRecord:
        """Delete one face; the identity stays (possibly with zero faces)."""
        face_id = validate_face_id(face_id)

        def work(conn: Connection) -> FaceRecord:
            row = conn.execute(
                "DELETE FROM frs.faces f WHERE f.face_id = %s AND f.gallery_id = %s "
                f"RETURNING {_FACE_COLUMNS}, f.identity_id",
                (face_id, self._read_id(conn)),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            owner = conn.execute(
                "UPDATE frs.identities SET updated_at = now() WHERE id = %s RETURNING name", (row[7],)
            ).fetchone()
            assert owner is not None
            return _face_record(str(owner[0]), row[:7])

        return self._written(self._db.run(work))

    def _written(self, result: T) -> T:
        """``result`` of a committed write, after forgetting the face count it changed."""
        self._count = None
        return result

    # ----- reads -------------------------------------------------------------------------------------------

    def search(self, embeddings: Embedding, *, pack: PackInfo, top_k: int) -> list[list[Candidate]]:
        """For each row of ``embeddings`` (n, dim): the top_k identities by max similarity."""
        pack = validate_pack(pack)
        top_k = validate_top_k(top_k)
        queries = validate_queries(embeddings, pack.dim)

        def work(conn: Connection) -> list[list[Candidate]]:
            gallery_id = self._read_id(conn)
            bound = self._known_pack(conn, gallery_id)
            if bound is None:
                return [[] for _ in range(queries.shape[0])]
            if bound != pack:
                raise _mismatch(bound, pack)
            return search_gallery(conn, gallery_id, pack.dim, queries, top_k, self._ef_search)

        return self._db.run(work)

    def face_count(self) -> int:
        """Enrolled faces, counted at most every ``count_ttl`` seconds (an index-only count on
        ``faces_gallery_seq``; a search costs more than it, but not every identify needs to pay it)."""
        cached = self._count
        if cached is not None and self._clock() - cached[0] < self._count_ttl:
            return cached[1]

        def work(conn: Connection) -> int:
            row = conn.execute(
                "SELECT count(*) FROM frs.faces WHERE gallery_id = %s", (self._read_id(conn),)
            ).fetchone()
            return int(row[0]) if row is not None else 0

        counted_at = self._clock()
        faces = self._db.run(work)
        self._count = (counted_at, faces)
        return faces

    def identity_similarity(self, name: str, embedding: Embedding, *, pack: PackInfo) -> float:
        """Max similarity between ``embedding`` and the faces of ``name``; ``not_found`` if unknown."""
        name = validate_identity_name(name)
        pack = validate_pack(pack)
        query = validate_embedding(embedding, pack.dim)

        def work(conn: Connection) -> float:
            gallery_id = self._read_id(conn)
            bound = self._known_pack(conn, gallery_id)
            if bound is not None and bound != pack:
                raise _mismatch(bound, pack)
            identity_id = _identity_id(conn, gallery_id, name)
            row = conn.execute(
                identity_similarity_sql(), {"q": PgVector(query), "identity_id": identity_id}
            ).fetchone()
            if row is None or row[0] is None:
                raise FRSError("not_found", f"identity {name!r} has no enrolled faces")
            return min(1.0, max(-1.0, float(row[0])))

        return self._db.run(work)

    def get(self, name: str) -> Identity:
        """The identity with its faces (in enrolment order); ``not_found`` if unknown."""
        name = validate_identity_name(name)

        def work(conn: Connection) -> Identity:
            row = conn.execute(
                "SELECT id, metadata, created_at, updated_at FROM frs.identities "
                "WHERE gallery_id = %s AND name = %s",
                (self._read_id(conn), name),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            faces = tuple(
                _face_record(name, face)
                for face in conn.execute(
                    f"SELECT {_FACE_COLUMNS} FROM frs.faces f WHERE f.identity_id = %s ORDER BY f.seq",
                    (row[0],),
                ).fetchall()
            )
            return Identity(
                name=name,
                metadata=dict(row[1]),
                created_at=_iso(row[2]),
                updated_at=_iso(row[3]),
                face_count=len(faces),
                faces=faces,
            )

        return self._db.run(work)

    def list(
        self, *, prefix: str | None = None, page_size: int = 100, page_token: str | None = None
    ) -> ListPage:
        """Identities ordered by name (code point order), paginated with an opaque, stable token."""
        prefix = validate_prefix(prefix)
        page_size = validate_page_size(page_size)
        after = decode_page_token(page_token, prefix)
        if after is not None and "\x00" in after:
            raise FRSError("bad_request", "page_token is not valid")

        def work(conn: Connection) -> ListPage:
            rows = conn.execute(
                "SELECT i.name, i.metadata, i.created_at, i.updated_at, "
                "(SELECT count(*) FROM frs.faces f WHERE f.identity_id = i.id) "
                "FROM frs.identities i WHERE i.gallery_id = %(gallery)s "
                "AND (%(after)s::text IS NULL OR i.name > %(after)s) "
                "AND (%(prefix)s::text IS NULL OR starts_with(i.name, %(prefix)s)) "
                "ORDER BY i.name LIMIT %(limit)s",
                {"gallery": self._read_id(conn), "after": after, "prefix": prefix, "limit": page_size + 1},
            ).fetchall()
            identities = tuple(
                Identity(
                    name=str(r[0]),
                    metadata=dict(r[1]),
                    created_at=_iso(r[2]),
                    updated_at=_iso(r[3]),
                    face_count=int(r[4]),
                )
                for r in rows[:page_size]
            )
            token = encode_page_token(identities[-1].name, prefix) if len(rows) > page_size else None
            return ListPage(identities=identities, next_page_token=token)

        return self._db.run(work)


def _identity_id(conn: Connection, gallery_id: int, name: str, *, lock: bool = False) -> int:
    query = "SELECT id FROM frs.identities WHERE gallery_id = %s AND name = %s"
    row = conn.execute(query + " FOR UPDATE" if lock else query, (gallery_id, name)).fetchone()
    if row is None:
        raise FRSError("not_found", f"identity {name!r} not found")
    return int(row[0])


def _add_one(
    conn: Connection, gallery_id: int, name: str, face: NewFace, metadata: str | None, pack: PackInfo
) -> AddResult:
    # One statement creates or locks the identity row, so concurrent adds to one identity serialise here.
    if metadata is None:
        row = conn.execute(
            "INSERT INTO frs.identities (gallery_id, name) VALUES (%s, %s) "
            "ON CONFLICT (gallery_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            (gallery_id, name),
        ).fetchone()
    else:
        row = conn.execute(
            "INSERT INTO frs.identities (gallery_id, name, metadata) VALUES (%s, %s, %s::jsonb) "
            "ON CONFLICT (gallery_id, name) DO UPDATE SET metadata = EXCLUDED.metadata, "
            "updated_at = now() RETURNING id",
            (gallery_id, name, metadata),
        ).fetchone()
    assert row is not None
    identity_id = int(row[0])
    inserted = conn.execute(
        "INSERT INTO frs.faces (face_id, identity_id, gallery_id, embedding, pack, dim, det_score, bbox, "
        "image_sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (identity_id, image_sha256) DO NOTHING RETURNING face_id",
        (
            face.face_id or uuid.uuid4(),
            identity_id,
            gallery_id,
            PgVector(face.embedding),
            pack.name,
            pack.dim,
            face.det_score,
            list(face.bbox),
            face.image_sha256,
        ),
    ).fetchone()
    if inserted is not None:
        face_id, created = str(inserted[0]), True
        conn.execute("UPDATE frs.identities SET updated_at = now() WHERE id = %s", (identity_id,))
    else:
        existing = conn.execute(
            "SELECT face_id FROM frs.faces WHERE identity_id = %s AND image_sha256 = %s",
            (identity_id, face.image_sha256),
        ).fetchone()
        assert existing is not None
        face_id, created = str(existing[0]), False
    count = conn.execute("SELECT count(*) FROM frs.faces WHERE identity_id = %s", (identity_id,)).fetchone()
    assert count is not None
    return AddResult(face_id=face_id, identity=name, face_count=int(count[0]), created=created)


def _create_gallery_row(name: str) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute("INSERT INTO frs.galleries (name) VALUES (%s) ON CONFLICT (name) DO NOTHING", (name,))
        row = conn.execute("SELECT id FROM frs.galleries WHERE name = %s", (name,)).fetchone()
        assert row is not None
        return int(row[0])

    return work


def open_pgvector_gallery(
    uri: str, name: str, *, ef_search: int | None = None, settings: Settings | None = None
) -> PgVectorGallery:
    """Open gallery ``name`` in the PostgreSQL database at ``uri`` (its row is created by the first write).

    ``uri`` is ``postgresql://...`` or ``postgresql+secretsmanager://<secret>`` (read with ``settings``' AWS
    client, and read again after a rotation: see :mod:`frs.gallery.pgvector.secret`).
    Connects and applies schema migrations if needed; the connection is cached per URI and reused by later
    calls (warm Lambda invocations). ``ef_search`` (1..1000, default 400) trades search latency for recall,
    see :mod:`frs.gallery.pgvector.search`. Raises ``storage_unavailable`` when the server cannot be reached,
    ``storage_misconfigured`` for a bad URI, credentials, database, a missing pgvector extension or an
    out-of-range ``ef_search``, and ``bad_request`` for an invalid gallery name.
    """
    name = validate_gallery_name(name)
    if ef_search is None:
        ef_search = DEFAULT_EF_SEARCH
    if isinstance(ef_search, bool) or not isinstance(ef_search, int) or not 1 <= ef_search <= EF_SEARCH_MAX:
        raise FRSError("storage_misconfigured", f"ef_search must be an integer from 1 to {EF_SEARCH_MAX}")
    db = database_for(uri, settings)
    ensure_schema(db)
    count_ttl = settings.sync_ttl if settings is not None else DEFAULT_COUNT_TTL
    return PgVectorGallery(db, name, ef_search=ef_search, count_ttl=count_ttl)
