"""The PostgreSQL + pgvector gallery backend (Aurora PostgreSQL in production).

``FRS_GALLERY_URI=postgresql://user:password@host:5432/db`` selects it. All galleries share one schema
``frs`` (see :mod:`frs.gallery.pgvector.schema` for the tables and the per-gallery HNSW index); a gallery is a
row in ``frs.galleries``. Every method is one transaction, so concurrent writers from many Lambda containers
are safe: identities are created with ``INSERT .. ON CONFLICT``, a re-added image hits the unique
``(identity_id, image_sha256)`` key, and binding a gallery to a pack is a conditional ``UPDATE``.

Retention (migration 3): ``frs.identities.expires_at`` and ``frs.galleries.retention_days``, with the file
galleries' ``expired_names``, ``retention_days``, ``set_retention`` and ``purge_expired``; searches leave an
expired identity out in SQL (:mod:`frs.gallery.pgvector.search`), from the moment it expires.

Validation and error codes are shared with the SQLite backend (:mod:`frs.gallery.validation`,
:mod:`frs.gallery.paging`), so both answer the same inputs the same way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import psycopg.errors

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.paging import decode_page_token, encode_page_token
from frs.gallery.pgvector.connection import Connection, Database, PgVector, database_for
from frs.gallery.pgvector.schema import (
    create_gallery_index,
    drop_gallery_index,
    ensure_schema,
    gallery_index_valid,
)
from frs.gallery.pgvector.search import (
    DEFAULT_EF_SEARCH,
    EF_SEARCH_MAX,
    identity_similarity_sql,
    search_gallery,
)
from frs.gallery.types import (
    KEEP,
    AddResult,
    Candidate,
    Embedding,
    ExpiryChange,
    FaceRecord,
    Identity,
    ImportRecords,
    ImportResult,
    ListPage,
    MergeResult,
    MetadataMode,
    MoveResult,
    NewFace,
    StoredFace,
)
from frs.gallery.validation import (
    merge_metadata,
    merged_identity_metadata,
    serialize_metadata,
    validate_embedding,
    validate_face_id,
    validate_gallery_name,
    validate_identity_name,
    validate_merge_sources,
    validate_metadata_update,
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

_FACE_COLUMNS = (
    "f.face_id, f.pack, f.dim, f.det_score, f.bbox, f.image_sha256, f.created_at, f.source, f.quality"
)
_N_FACE = 9
#: Rows per round trip when streaming a gallery (export, copy) and per COPY batch when importing.
STREAM_BATCH = 2000
#: A bulk load of at least this many faces, and at least as many as the gallery already holds, builds the
#: gallery's HNSW index once at the end instead of inserting into it: 20,000 512-d faces took 231 s to COPY
#: into an indexed gallery and 0.3 s + a 16 s build without (pgvector 0.6, pgserver, this 2-core machine).
BULK_LOAD_MIN_FACES = 5000


def _iso(moment: datetime) -> str:
    """UTC, ISO 8601 with milliseconds and a Z suffix (the format of every FRS backend)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else _iso(moment)


def _face_record(identity: str, row: tuple[Any, ...]) -> FaceRecord:
    face_id, pack, dim, det_score, bbox, image_sha256, created_at, source, quality = row
    return FaceRecord(
        source=None if source is None else str(source),
        quality=None if quality is None else float(quality),
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
        index_build_memory: str | None = None,
    ) -> None:
        self.name = name
        self._db = db
        self._index_build_memory = index_build_memory
        self._defer_index = False  # inside bulk_load: binding the gallery leaves the index to the end
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
                if not self._defer_index:
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
        self,
        identity: str,
        face: NewFace,
        *,
        pack: PackInfo,
        metadata: dict[str, Any] | None = None,
        expires_at: str | None = None,
    ) -> AddResult:
        """Enrol one face, creating the identity if needed; ``pack_mismatch`` for another pack."""
        return self.add_faces([(identity, face, metadata)], pack=pack, expires_at=expires_at)[0]

    def add_faces(
        self,
        items: list[tuple[str, NewFace, dict[str, Any] | None]],
        *,
        pack: PackInfo,
        expires_at: str | None = None,
    ) -> list[AddResult]:
        """Enrol many faces in one transaction; all or nothing.

        Metadata ``None`` keeps an identity's metadata, a dict replaces it. Re-adding the same image
        (``image_sha256``) to the same identity returns the existing face with ``created=False``.
        ``expires_at`` (ISO 8601 UTC) sets or moves the expiry of every identity named; without it a new
        identity gets the gallery's default retention (if it has one) and an existing one keeps its expiry.
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
                results[i] = _add_one(conn, gallery_id, name, face, meta, pack, expires_at)
            return [results[i] for i in range(len(checked))]

        return self._written(self._db.run(work))

    def delete_identity(self, name: str) -> list[str]:
        """Delete an identity and all its faces; returns the removed faces' ids, in enrolment order."""
        name = validate_identity_name(name)

        def work(conn: Connection) -> list[str]:
            # Lock the identity first: a concurrent add to it waits, so the list is exactly what goes.
            identity_id = _identity_id(conn, self._read_id(conn), name, lock=True)
            removed = _delete_faces_of(conn, [identity_id])
            conn.execute("DELETE FROM frs.identities WHERE id = %s", (identity_id,))
            return removed.get(identity_id, [])

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
                "UPDATE frs.identities SET updated_at = now() WHERE id = %s RETURNING name", (row[_N_FACE],)
            ).fetchone()
            assert owner is not None
            return _face_record(str(owner[0]), row[:_N_FACE])

        return self._written(self._db.run(work))

    # ----- identity edits: each one transaction, rows locked in name order (no deadlocks) ------------------

    def face(self, face_id: str) -> StoredFace:
        face_id = validate_face_id(face_id)

        def work(conn: Connection) -> StoredFace:
            row = conn.execute(
                f"SELECT {_FACE_COLUMNS}, i.name, f.embedding FROM frs.faces f "
                "JOIN frs.identities i ON i.id = f.identity_id WHERE f.face_id = %s AND f.gallery_id = %s",
                (face_id, self._read_id(conn)),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            return StoredFace(_face_record(str(row[_N_FACE]), row[:_N_FACE]), _vector(row[_N_FACE + 1]))

        return self._db.run(work)

    def rename_identity(self, name: str, new_name: str) -> Identity:
        name = validate_identity_name(name)
        new_name = validate_identity_name(new_name)
        if new_name == name:
            raise FRSError("bad_request", "new_name is the identity's current name")

        def work(conn: Connection) -> Identity:
            gallery_id = self._read_id(conn)
            _locked(conn, gallery_id, [name])
            try:
                with conn.transaction():  # a savepoint: a concurrent insert of new_name surfaces here
                    conn.execute(
                        "UPDATE frs.identities SET name = %s, updated_at = now() "
                        "WHERE gallery_id = %s AND name = %s",
                        (new_name, gallery_id, name),
                    )
            except psycopg.errors.UniqueViolation:
                raise FRSError("identity_exists", f"identity {new_name!r} already exists") from None
            return _summary(conn, gallery_id, new_name)

        return self._written(self._db.run(work))

    def merge_identities(self, name: str, sources: list[str]) -> MergeResult:
        name = validate_identity_name(name)
        names = validate_merge_sources(name, sources)

        def work(conn: Connection) -> MergeResult:
            gallery_id = self._read_id(conn)
            rows = _locked(conn, gallery_id, [name, *names])
            target_id, target_meta = rows[name]
            merged = merged_identity_metadata(target_meta, [rows[n][1] for n in names])
            text = serialize_metadata(merged)
            moved = dropped = 0
            for source in names:
                source_id = rows[source][0]
                dropped += conn.execute(
                    "DELETE FROM frs.faces WHERE identity_id = %s AND image_sha256 IN "
                    "(SELECT image_sha256 FROM frs.faces WHERE identity_id = %s)",
                    (source_id, target_id),
                ).rowcount
                moved += conn.execute(
                    "UPDATE frs.faces SET identity_id = %s WHERE identity_id = %s", (target_id, source_id)
                ).rowcount
                conn.execute("DELETE FROM frs.identities WHERE id = %s", (source_id,))
            conn.execute(
                "UPDATE frs.identities SET metadata = %s::jsonb, updated_at = now() WHERE id = %s",
                (text, target_id),
            )
            return MergeResult(
                _summary(conn, gallery_id, name), faces_moved=moved, duplicates_dropped=dropped
            )

        return self._written(self._db.run(work))

    def move_face(self, face_id: str, name: str) -> MoveResult:
        face_id = validate_face_id(face_id)
        name = validate_identity_name(name)

        def work(conn: Connection) -> MoveResult:
            gallery_id = self._read_id(conn)
            row = conn.execute(
                "SELECT i.name FROM frs.faces f JOIN frs.identities i ON i.id = f.identity_id "
                "WHERE f.face_id = %s AND f.gallery_id = %s",
                (face_id, gallery_id),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            previous = str(row[0])
            rows = _locked(conn, gallery_id, sorted({previous, name}))
            face = conn.execute(
                "SELECT identity_id, image_sha256 FROM frs.faces WHERE face_id = %s FOR UPDATE", (face_id,)
            ).fetchone()
            if face is None or int(face[0]) != rows[previous][0]:
                raise FRSError("conflict", f"face {face_id!r} changed during the move; try again")
            target_id = rows[name][0]
            if target_id != int(face[0]):
                clash = conn.execute(
                    "SELECT 1 FROM frs.faces WHERE identity_id = %s AND image_sha256 = %s",
                    (target_id, face[1]),
                ).fetchone()
                if clash is not None:
                    raise FRSError("duplicate_face", f"identity {name!r} already has a face from this photo")
                conn.execute("UPDATE frs.faces SET identity_id = %s WHERE face_id = %s", (target_id, face_id))
                conn.execute(
                    "UPDATE frs.identities SET updated_at = now() WHERE id = ANY(%s)",
                    ([target_id, int(face[0])],),
                )
            moved = conn.execute(
                f"SELECT {_FACE_COLUMNS} FROM frs.faces f WHERE f.face_id = %s", (face_id,)
            ).fetchone()
            assert moved is not None
            return MoveResult(_face_record(name, moved), previous_identity=previous)

        return self._written(self._db.run(work))

    def update_metadata(
        self,
        name: str,
        metadata: dict[str, Any] | None,
        mode: MetadataMode,
        *,
        expires_at: ExpiryChange = KEEP,
    ) -> Identity:
        """See the Gallery protocol; ``expires_at`` (ISO 8601 UTC, or None to clear) moves the expiry in the
        same transaction, and ``metadata=None`` leaves the metadata as it is."""
        name, patch, checked = validate_metadata_update(
            name, metadata, mode, changes_expiry=expires_at is not KEEP
        )

        def work(conn: Connection) -> Identity:
            gallery_id = self._read_id(conn)
            identity_id, stored = _locked(conn, gallery_id, [name])[name]
            if patch is not None:
                new = merge_metadata(stored, patch) if checked == "merge" else patch
                conn.execute(
                    "UPDATE frs.identities SET metadata = %s::jsonb, updated_at = now() WHERE id = %s",
                    (serialize_metadata(new), identity_id),
                )
            if expires_at is not KEEP:
                conn.execute(
                    "UPDATE frs.identities SET expires_at = %s::timestamptz, updated_at = now() "
                    "WHERE id = %s",
                    (expires_at, identity_id),
                )
            return _summary(conn, gallery_id, name)

        return self._written(self._db.run(work))

    # ----- bulk transfer -----------------------------------------------------------------------------------

    def snapshot(self) -> AbstractContextManager[None]:
        """One read-only ``REPEATABLE READ`` transaction for this thread's reads (see ``Database.snapshot``);
        nothing can be written through this database's connection meanwhile."""
        return self._db.snapshot()

    def iter_identities(self) -> Iterator[Identity]:
        """Identities in name order, one keyset page per transaction (one moment only inside ``snapshot``)."""
        after: str | None = None
        while True:

            def page(conn: Connection, after: str | None = after) -> list[tuple[Any, ...]]:
                return conn.execute(
                    "SELECT name, metadata, created_at, updated_at, expires_at FROM frs.identities "
                    "WHERE gallery_id = %s AND (%s::text IS NULL OR name > %s) ORDER BY name LIMIT %s",
                    (self._read_id(conn), after, after, STREAM_BATCH),
                ).fetchall()

            rows = self._db.run(page)
            for r in rows:
                yield Identity(
                    name=str(r[0]),
                    metadata=dict(r[1]),
                    created_at=_iso(r[2]),
                    updated_at=_iso(r[3]),
                    face_count=0,
                    expires_at=_iso_or_none(r[4]),
                )
            if len(rows) < STREAM_BATCH:
                return
            after = str(rows[-1][0])

    def iter_faces(self) -> Iterator[StoredFace]:
        """Faces in face_id order, one keyset page per transaction."""
        after: uuid.UUID | None = None
        while True:

            def page(conn: Connection, after: uuid.UUID | None = after) -> list[tuple[Any, ...]]:
                return conn.execute(
                    f"SELECT {_FACE_COLUMNS}, i.name, f.embedding FROM frs.faces f "
                    "JOIN frs.identities i ON i.id = f.identity_id WHERE f.gallery_id = %s "
                    "AND (%s::uuid IS NULL OR f.face_id > %s) ORDER BY f.face_id LIMIT %s",
                    (self._read_id(conn), after, after, STREAM_BATCH),
                    binary=True,  # embeddings as float4 bytes, not decimal text
                ).fetchall()

            rows = self._db.run(page)
            for row in rows:
                yield StoredFace(_face_record(str(row[_N_FACE]), row[:_N_FACE]), _vector(row[_N_FACE + 1]))
            if len(rows) < STREAM_BATCH:
                return
            after = rows[-1][0]

    def existing_face_ids(self, face_ids: list[str]) -> set[str]:
        ids = [validate_face_id(f) for f in face_ids]

        def work(conn: Connection) -> set[str]:
            rows = conn.execute(
                "SELECT face_id FROM frs.faces WHERE gallery_id = %s AND face_id = ANY(%s::uuid[])",
                (self._read_id(conn), ids),
            ).fetchall()
            return {str(r[0]) for r in rows}

        return self._db.run(work)

    @contextmanager
    def bulk_load(self, faces: int) -> Iterator[None]:
        """Around the writes of a bulk load of about ``faces`` faces (import, copy, restore): when that is at
        least ``BULK_LOAD_MIN_FACES`` and at least the gallery's own count, its HNSW index is dropped first
        and built once at the end, concurrently (other galleries are never blocked), also when the load fails.
        Meanwhile searches of this gallery scan it exactly: correct, only slower. A process killed midway
        leaves the gallery without its index until a load runs again (re-running the import or copy does it).
        """
        existing = self._db.run(self._read_id)
        if faces < BULK_LOAD_MIN_FACES or (existing != _NO_GALLERY and faces < self.face_count()):
            yield
            return
        self._defer_index = True
        try:
            if existing != _NO_GALLERY:
                self._db.run(
                    lambda conn: drop_gallery_index(conn, existing, concurrently=True), transaction=False
                )
            yield
        finally:
            self._defer_index = False
            self.build_index()

    def build_index(self) -> None:
        """Refresh the table statistics and build the gallery's HNSW index if it lacks a valid one (after a
        bulk load, or one interrupted), concurrently, with ``index_build_memory`` as ``maintenance_work_mem``
        when set."""

        def work(conn: Connection) -> None:
            gallery_id = self._read_id(conn)
            if gallery_id == _NO_GALLERY:
                return
            pack = self._bound_pack(conn, gallery_id)
            if pack is None:
                return
            # Fresh statistics first: planned with the pre-load row counts, searches would skip the index.
            conn.execute("ANALYZE frs.faces")
            valid = gallery_index_valid(conn, gallery_id)
            if valid:
                return
            if valid is False:  # a concurrent build that was interrupted
                drop_gallery_index(conn, gallery_id, concurrently=True)
            if self._index_build_memory is not None:
                memory = self._index_build_memory
                conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (memory,))
            try:
                create_gallery_index(conn, gallery_id, pack.dim, concurrently=True)
            finally:
                if self._index_build_memory is not None:
                    conn.execute("RESET maintenance_work_mem")

        self._db.run(work, transaction=False)

    def import_records(
        self, records: ImportRecords, *, pack: PackInfo, replace: bool = False
    ) -> ImportResult:
        """One transaction: identities inserted as given, faces COPYed to a staging table then inserted;
        what exists is kept (``ON CONFLICT DO NOTHING``)."""
        pack = validate_pack(pack)
        gallery_id = self._write_id()

        def work(conn: Connection) -> ImportResult:
            if replace:
                conn.execute("DELETE FROM frs.identities WHERE gallery_id = %s", (gallery_id,))
            self._require_pack(conn, gallery_id, pack)
            return _import(conn, gallery_id, pack, records())

        return self._written(self._db.run(work))

    def _written(self, result: T) -> T:
        """``result`` of a committed write, after forgetting the face count it changed."""
        self._count = None
        return result

    # ----- retention (beyond the Gallery protocol, like the file galleries') -------------------------------

    supports_retention = True
    #: Searches leave expired identities out in SQL (see :mod:`frs.gallery.pgvector.search`): callers need
    #: not fetch extra candidates to drop the expired ones themselves.
    filters_expired = True

    def expired_names(self, now: str) -> list[str]:
        """Identities whose ``expires_at`` is at or before ``now`` (ISO 8601 UTC), in name order."""

        def work(conn: Connection) -> list[str]:
            rows = conn.execute(
                "SELECT name FROM frs.identities WHERE gallery_id = %s AND expires_at IS NOT NULL "
                "AND expires_at <= %s::timestamptz ORDER BY name",
                (self._read_id(conn), now),
            ).fetchall()
            return [str(r[0]) for r in rows]

        return self._db.run(work)

    def retention_days(self) -> float | None:
        """The gallery's default retention in days (None: identities never expire unless told)."""

        def work(conn: Connection) -> float | None:
            row = conn.execute(
                "SELECT retention_days FROM frs.galleries WHERE id = %s", (self._read_id(conn),)
            ).fetchone()
            return None if row is None or row[0] is None else float(row[0])

        return self._db.run(work)

    def set_retention(self, days: float | None) -> None:
        """The gallery's default retention for identities created from now on (None: none)."""
        gallery_id = self._write_id()
        self._db.run(
            lambda conn: conn.execute(
                "UPDATE frs.galleries SET retention_days = %s WHERE id = %s", (days, gallery_id)
            )
        )

    def purge_expired(self, now: str) -> list[tuple[str, list[str]]]:
        """Delete every identity expired at ``now`` with its faces, in one transaction; (name, face ids) of
        each, in name order. Like delete, the rows become dead tuples that VACUUM reclaims (README)."""

        def work(conn: Connection) -> list[tuple[str, list[str]]]:
            rows = conn.execute(
                "SELECT id, name FROM frs.identities WHERE gallery_id = %s AND expires_at IS NOT NULL "
                "AND expires_at <= %s::timestamptz ORDER BY name FOR UPDATE",
                (self._read_id(conn), now),
            ).fetchall()
            if not rows:
                return []
            ids = [int(r[0]) for r in rows]
            removed = _delete_faces_of(conn, ids)
            conn.execute("DELETE FROM frs.identities WHERE id = ANY(%s)", (ids,))
            return [(str(name), removed.get(int(identity_id), [])) for identity_id, name in rows]

        return self._written(self._db.run(work))

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
                "SELECT id, metadata, created_at, updated_at, expires_at FROM frs.identities "
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
                expires_at=_iso_or_none(row[4]),
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
                "(SELECT count(*) FROM frs.faces f WHERE f.identity_id = i.id), i.expires_at "
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
                    expires_at=_iso_or_none(r[5]),
                )
                for r in rows[:page_size]
            )
            token = encode_page_token(identities[-1].name, prefix) if len(rows) > page_size else None
            return ListPage(identities=identities, next_page_token=token)

        return self._db.run(work)


def _vector(value: Any) -> Embedding:
    return np.asarray(value, dtype=np.float32)


def _locked(conn: Connection, gallery_id: int, names: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """Lock identities (in name order) and return name -> (id, metadata); not_found for an unknown one."""
    rows = conn.execute(
        "SELECT name, id, metadata FROM frs.identities WHERE gallery_id = %s AND name = ANY(%s) "
        "ORDER BY name FOR UPDATE",
        (gallery_id, sorted(names)),
    ).fetchall()
    found = {str(r[0]): (int(r[1]), dict(r[2])) for r in rows}
    for name in names:
        if name not in found:
            raise FRSError("not_found", f"identity {name!r} not found")
    return found


def _summary(conn: Connection, gallery_id: int, name: str) -> Identity:
    row = conn.execute(
        "SELECT i.metadata, i.created_at, i.updated_at, "
        "(SELECT count(*) FROM frs.faces f WHERE f.identity_id = i.id), i.expires_at "
        "FROM frs.identities i WHERE i.gallery_id = %s AND i.name = %s",
        (gallery_id, name),
    ).fetchone()
    assert row is not None
    return Identity(
        name=name,
        metadata=dict(row[0]),
        created_at=_iso(row[1]),
        updated_at=_iso(row[2]),
        face_count=int(row[3]),
        expires_at=_iso_or_none(row[4]),
    )


_STAGE_COLUMNS = "face_id, identity, embedding, det_score, bbox, image_sha256, created_at, source, quality"


def _import(
    conn: Connection, gallery_id: int, pack: PackInfo, records: Iterator[Identity | StoredFace]
) -> ImportResult:
    conn.execute(
        'CREATE TEMP TABLE frs_import_faces (face_id uuid, identity text COLLATE "C", embedding vector, '
        "det_score double precision, bbox double precision[], image_sha256 text, created_at timestamptz, "
        "source text, quality double precision) ON COMMIT DROP"
    )
    identities = faces = added = 0
    batch: list[tuple[Any, ...]] = []

    def flush() -> int:
        copy_sql = f"COPY frs_import_faces ({_STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)"
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            copy.set_types(
                ["uuid", "text", "vector", "float8", "float8[]", "text", "timestamptz", "text", "float8"]
            )
            for row in batch:
                copy.write_row(row)
        inserted = conn.execute(
            "INSERT INTO frs.faces (face_id, identity_id, gallery_id, embedding, pack, dim, det_score, bbox, "
            "image_sha256, created_at, source, quality) "
            "SELECT s.face_id, i.id, %s, s.embedding, %s, %s, s.det_score, s.bbox, s.image_sha256, "
            "s.created_at, "
            "s.source, s.quality FROM frs_import_faces s JOIN frs.identities i "
            "ON i.gallery_id = %s AND i.name = s.identity ORDER BY s.face_id ON CONFLICT DO NOTHING",
            (gallery_id, pack.name, pack.dim, gallery_id),
        ).rowcount
        conn.execute("TRUNCATE frs_import_faces")
        batch.clear()
        return int(inserted)

    for item in records:
        if isinstance(item, Identity):
            identities += conn.execute(
                "INSERT INTO frs.identities (gallery_id, name, metadata, created_at, updated_at, expires_at) "
                "VALUES (%s, %s, %s::jsonb, %s, %s, %s) ON CONFLICT (gallery_id, name) DO NOTHING",
                (
                    gallery_id,
                    item.name,
                    serialize_metadata(item.metadata),
                    item.created_at,
                    item.updated_at,
                    item.expires_at,
                ),
            ).rowcount
            continue
        record = item.record
        if record.pack != pack.name or record.dim != pack.dim:
            raise _mismatch(pack, PackInfo(record.pack, record.dim))
        faces += 1
        batch.append(
            (
                uuid.UUID(record.face_id),
                record.identity,
                PgVector(item.embedding),
                record.det_score,
                list(record.bbox),
                record.image_sha256,
                datetime.fromisoformat(record.created_at),
                record.source,
                record.quality,
            )
        )
        if len(batch) >= STREAM_BATCH:
            added += flush()
    if batch:
        added += flush()
    return ImportResult(identities_added=identities, faces_added=added, faces_skipped=faces - added)


def _identity_id(conn: Connection, gallery_id: int, name: str, *, lock: bool = False) -> int:
    query = "SELECT id FROM frs.identities WHERE gallery_id = %s AND name = %s"
    row = conn.execute(query + " FOR UPDATE" if lock else query, (gallery_id, name)).fetchone()
    if row is None:
        raise FRSError("not_found", f"identity {name!r} not found")
    return int(row[0])


#: Creates the identity or locks its row (so concurrent adds to one identity serialise here). A new identity
#: gets ``expires``, else the gallery's default retention; an existing one changes only what is given.
_UPSERT_IDENTITY = (
    "INSERT INTO frs.identities AS i (gallery_id, name, metadata, expires_at) "
    "VALUES (%(gallery)s, %(name)s, coalesce(%(metadata)s::jsonb, '{}'::jsonb), "
    "coalesce(%(expires)s::timestamptz, "
    "now() + (SELECT g.retention_days FROM frs.galleries g WHERE g.id = %(gallery)s) * interval '1 day')) "
    "ON CONFLICT (gallery_id, name) DO UPDATE SET "
    "metadata = coalesce(%(metadata)s::jsonb, i.metadata), "
    "expires_at = CASE WHEN %(expires)s::timestamptz IS NULL THEN i.expires_at ELSE EXCLUDED.expires_at END, "
    "updated_at = CASE WHEN %(metadata)s::jsonb IS NULL AND %(expires)s::timestamptz IS NULL "
    "THEN i.updated_at ELSE now() END "
    "RETURNING id"
)


def _add_one(
    conn: Connection,
    gallery_id: int,
    name: str,
    face: NewFace,
    metadata: str | None,
    pack: PackInfo,
    expires_at: str | None = None,
) -> AddResult:
    row = conn.execute(
        _UPSERT_IDENTITY,
        {"gallery": gallery_id, "name": name, "metadata": metadata, "expires": expires_at},
    ).fetchone()
    assert row is not None
    identity_id = int(row[0])
    inserted = conn.execute(
        "INSERT INTO frs.faces (face_id, identity_id, gallery_id, embedding, pack, dim, det_score, bbox, "
        "image_sha256, source, quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
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
            face.source,
            face.quality,
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


def _delete_faces_of(conn: Connection, identity_ids: list[int]) -> dict[int, list[str]]:
    """Delete every face of ``identity_ids``; identity id -> the removed face ids, in enrolment order."""
    rows = conn.execute(
        "DELETE FROM frs.faces WHERE identity_id = ANY(%s) RETURNING identity_id, face_id, seq",
        (identity_ids,),
    ).fetchall()
    removed: dict[int, list[str]] = {}
    for identity_id, face_id, _ in sorted(rows, key=lambda r: int(r[2])):
        removed.setdefault(int(identity_id), []).append(str(face_id))
    return removed


def list_pgvector_galleries(uri: str, settings: Settings | None = None) -> list[str]:
    """Names of every gallery in the PostgreSQL database at ``uri`` (those written at least once)."""
    db = database_for(uri, settings)
    ensure_schema(db)
    rows = db.run(lambda conn: conn.execute("SELECT name FROM frs.galleries ORDER BY name").fetchall())
    return [str(r[0]) for r in rows]


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
    build_memory = settings.pg_index_build_memory if settings is not None else None
    return PgVectorGallery(
        db, name, ef_search=ef_search, count_ttl=count_ttl, index_build_memory=build_memory
    )
