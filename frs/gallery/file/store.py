"""One gallery as one SQLite file: schema, migrations, queries and mutations.

The file is self-describing: ``PRAGMA application_id`` marks it as an FRS gallery and the ``meta`` table holds
``schema_version``, ``pack`` and ``dim``. Names, metadata and ids only ever reach SQL as bound parameters, so
SQL-looking names are stored literally.

A file that is not SQLite, is another application's database, or has a schema version this code does not know
raises ``FRSError('storage_misconfigured')``: it is a fault in the deployment's storage, not in the caller's
request, and the file is never modified or overwritten by this module (callers refuse to write on top of it).

This module knows nothing about syncing: :mod:`frs.gallery.file.sync` opens immutable read-only snapshots with
:func:`open_snapshot` and applies mutations to private working copies opened with :func:`open_working_copy`.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from frs.errors import FRSError
from frs.gallery import validation
from frs.gallery.paging import encode_page_token
from frs.gallery.search.matrix import MatrixData
from frs.gallery.types import (
    KEEP,
    AddResult,
    Embedding,
    ExpiryChange,
    FaceRecord,
    Identity,
    ImportResult,
    ListPage,
    MergeResult,
    MoveResult,
    NewFace,
    StoredFace,
)
from frs.packs.info import PackInfo

SCHEMA_VERSION = 3
APPLICATION_ID = 0x46525347  # "FRSG"
SQLITE_HEADER = b"SQLite format 3\x00"
PAGE_SIZE = 16384
# How many past write ids a version remembers (see recent_write_ids).
RECENT_WRITE_IDS = 32

_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26


def _migrate_to_v1(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(
        """CREATE TABLE identities (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )
    conn.execute(
        """CREATE TABLE faces (
            face_id TEXT PRIMARY KEY,
            identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
            embedding BLOB NOT NULL,
            pack TEXT NOT NULL,
            dim INTEGER NOT NULL,
            det_score REAL NOT NULL,
            bbox TEXT NOT NULL,
            image_sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (identity_id, image_sha256))"""
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _migrate_to_v2(conn: sqlite3.Connection) -> None:
    """Each face's photo source (for re-enrolment on another pack) and quality score; NULL for older faces."""
    conn.execute("ALTER TABLE faces ADD COLUMN source TEXT")
    conn.execute("ALTER TABLE faces ADD COLUMN quality REAL")


def _migrate_to_v3(conn: sqlite3.Connection) -> None:
    """Retention: an identity may expire (ISO 8601 UTC text, compared as text); the gallery's default
    retention in days sits in ``meta`` under ``retention_days``."""
    conn.execute("ALTER TABLE identities ADD COLUMN expires_at TEXT")
    conn.execute("CREATE INDEX identities_expires_at ON identities (expires_at) WHERE expires_at IS NOT NULL")


#: target version -> step that upgrades a file from the previous version. Append, never edit.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_to_v1,
    2: _migrate_to_v2,
    3: _migrate_to_v3,
}

_FACE_COLUMNS = (
    "f.face_id, f.pack, f.dim, f.det_score, f.bbox, f.image_sha256, f.created_at, f.source, f.quality"
)
#: Rows fetched per batch when streaming a whole gallery (export, copy).
STREAM_BATCH = 2000


def now_iso() -> str:
    """Current UTC time, ISO 8601 with milliseconds and a Z suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def later_iso(days: float) -> str:
    """``days`` from now, in :func:`now_iso`'s form (so times compare as text)."""
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def sqlite_errors(description: str) -> Iterator[None]:
    """Translate SQLite failures into FRSError: full disk -> insufficient_storage, damage -> misconfigured."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if code == _SQLITE_FULL:
            raise FRSError(
                "insufficient_storage",
                "no space left on the local disk (FRS_CACHE_DIR) while preparing a new version of "
                + description,
            ) from exc
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or not isinstance(exc, sqlite3.OperationalError):
            raise FRSError("storage_misconfigured", f"{description} is damaged: {exc}") from exc
        raise


def check_file(path: Path, description: str) -> int:
    """Return a gallery file's schema version; storage_misconfigured if it is not a gallery we know."""
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise FRSError("storage_misconfigured", f"{description} is not an SQLite file; refusing to use it")
    conn = _connect_readonly(path)
    try:
        with sqlite_errors(description):
            return _schema_version(conn, description)
    finally:
        conn.close()


def upgrade_file(path: Path, description: str) -> None:
    """Migrate a private copy of a gallery file to the current schema in place (no-op when current)."""
    if check_file(path, description) == SCHEMA_VERSION:
        return
    conn = open_working_copy(path, description)
    conn.close()


def open_snapshot(path: Path, description: str) -> GalleryDB:
    """Open an immutable gallery file for reading (no locks, no journal: the file never changes)."""
    check_file(path, description)
    return GalleryDB(_connect_readonly(path), description)


def open_working_copy(path: Path, description: str) -> GalleryDB:
    """Open a private, writable gallery file and bring its schema up to date."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        with sqlite_errors(description):
            conn.execute("PRAGMA secure_delete = ON")  # deleted rows are zeroed, not left in free pages
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = MEMORY")  # a private temp copy: a crash discards it anyway
            conn.execute("PRAGMA synchronous = OFF")  # the compacted snapshot is fsynced before upload
            _migrate(conn, description)
    except BaseException:
        conn.close()
        raise
    return GalleryDB(conn, description)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _schema_version(conn: sqlite3.Connection, description: str) -> int:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id == 0 and not tables:
        return 0  # a blank SQLite file: migrations create everything
    if app_id != APPLICATION_ID or "meta" not in tables:
        raise FRSError("storage_misconfigured", f"{description} is an SQLite file but not an FRS gallery")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        version = int(row[0]) if row else -1
    except ValueError:
        version = -1
    if version > SCHEMA_VERSION:
        raise FRSError(
            "storage_misconfigured",
            f"{description} has schema version {version}, newer than this FRS supports ({SCHEMA_VERSION}); "
            "upgrade FRS",
        )
    if version < 1:
        raise FRSError(
            "storage_misconfigured", f"{description} has an unknown schema version {row and row[0]!r}"
        )
    return version


def _migrate(conn: sqlite3.Connection, description: str) -> None:
    version = _schema_version(conn, description)
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        # A 512-d embedding row is ~2.2 KB: with the default 4 KiB pages only one fits per page (~45% waste).
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](conn)
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _embedding(blob: bytes) -> Embedding:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (code point order)."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be encoded; skip past them
                nxt = 0xE000
            return "".join(chars) + chr(nxt)
    return None


class GalleryDB:
    """Queries and mutations over one open gallery file. Mutations run in one transaction each."""

    def __init__(self, conn: sqlite3.Connection, description: str) -> None:
        self.conn = conn
        self.description = description

    def close(self) -> None:
        self.conn.close()

    # ----- reads -------------------------------------------------------------------------------------------

    def pack(self) -> PackInfo | None:
        """The pack the gallery is bound to (set by the first enrolled face), or None."""
        with sqlite_errors(self.description):
            rows = dict(
                self.conn.execute("SELECT key, value FROM meta WHERE key IN ('pack', 'dim')").fetchall()
            )
        if "pack" not in rows:
            return None
        return PackInfo(name=rows["pack"], dim=int(rows["dim"]))

    def get(self, name: str) -> Identity:
        """The identity with all its faces (in enrolment order); not_found if unknown."""
        with sqlite_errors(self.description):
            row = self.conn.execute(
                "SELECT id, metadata, created_at, updated_at, expires_at FROM identities WHERE name = ?",
                (name,),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            faces = tuple(
                self._face_record(name, face)
                for face in self.conn.execute(
                    f"SELECT {_FACE_COLUMNS} FROM faces f WHERE f.identity_id = ? ORDER BY f.rowid",
                    (row[0],),
                )
            )
        return Identity(
            name=name,
            metadata=json.loads(row[1]),
            created_at=row[2],
            updated_at=row[3],
            face_count=len(faces),
            faces=faces,
            expires_at=row[4],
        )

    def list_page(self, *, prefix: str | None, page_size: int, after: str | None) -> ListPage:
        """One page of identities in name order, without their faces (``faces`` is empty; see face_count)."""
        clauses: list[str] = []
        params: list[Any] = []
        if after is not None:
            clauses.append("name > ?")
            params.append(after)
        if prefix is not None:
            clauses.append("name >= ? AND substr(name, 1, ?) = ?")
            params.extend([prefix, len(prefix), prefix])
            upper = _prefix_upper_bound(prefix)
            if upper is not None:
                clauses.append("name < ?")
                params.append(upper)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT name, metadata, created_at, updated_at, "
            "(SELECT COUNT(*) FROM faces WHERE faces.identity_id = identities.id), expires_at "
            f"FROM identities {where} ORDER BY name LIMIT ?"
        )
        with sqlite_errors(self.description):
            rows = self.conn.execute(sql, [*params, page_size + 1]).fetchall()
        identities = tuple(
            Identity(
                name=r[0],
                metadata=json.loads(r[1]),
                created_at=r[2],
                updated_at=r[3],
                face_count=r[4],
                expires_at=r[5],
            )
            for r in rows[:page_size]
        )
        token = encode_page_token(identities[-1].name, prefix) if len(rows) > page_size else None
        return ListPage(identities=identities, next_page_token=token)

    def identity_embeddings(self, name: str) -> Embedding:
        """The (k, dim) embeddings of one identity; not_found if the identity is unknown."""
        with sqlite_errors(self.description):
            row = self.conn.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            blobs = [
                b[0]
                for b in self.conn.execute(
                    "SELECT embedding FROM faces WHERE identity_id = ? ORDER BY rowid", (row[0],)
                )
            ]
        pack = self.pack()
        dim = pack.dim if pack else 0
        return np.frombuffer(b"".join(blobs), dtype="<f4").astype(np.float32).reshape(len(blobs), dim)

    def load_matrix(self) -> MatrixData:
        """Every embedding as one float32 matrix, rows grouped by identity, for the in-memory matcher."""
        pack = self.pack()
        count = self.face_count()
        with sqlite_errors(self.description):
            dim = pack.dim if pack else 0
            embeddings = np.empty((count, dim), dtype=np.float32)
            starts: list[int] = []
            names: list[str] = []
            previous = None
            cursor = self.conn.execute(
                "SELECT f.identity_id, i.name, f.embedding FROM faces f "
                "JOIN identities i ON i.id = f.identity_id ORDER BY f.identity_id, f.rowid"
            )
            row_index = 0
            for identity_id, name, blob in cursor:
                if row_index >= count:
                    break
                if identity_id != previous:
                    starts.append(row_index)
                    names.append(name)
                    previous = identity_id
                embeddings[row_index] = np.frombuffer(blob, dtype="<f4")
                row_index += 1
        return MatrixData(
            embeddings=embeddings[:row_index], starts=np.asarray(starts, dtype=np.int64), names=names
        )

    def row_face_ids(self) -> tuple[list[str], list[int]]:
        """Each matrix row's face id and owning identity (row id), in :meth:`load_matrix`'s row order."""
        with sqlite_errors(self.description):
            rows = self.conn.execute(
                "SELECT f.face_id, f.identity_id FROM faces f "
                "JOIN identities i ON i.id = f.identity_id ORDER BY f.identity_id, f.rowid"
            ).fetchall()
        return [str(r[0]) for r in rows], [int(r[1]) for r in rows]

    def face_count(self) -> int:
        """How many faces this version holds (every identity together)."""
        with sqlite_errors(self.description):
            return int(self.conn.execute("SELECT COUNT(*) FROM faces").fetchone()[0])

    def expired_names(self, now: str) -> list[str]:
        """Identities whose ``expires_at`` is at or before ``now`` (ISO 8601 UTC)."""
        with sqlite_errors(self.description):
            rows = self.conn.execute(
                "SELECT name FROM identities WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY name",
                (now,),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def retention_days(self) -> float | None:
        with sqlite_errors(self.description):
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'retention_days'").fetchone()
        return float(row[0]) if row else None

    def change_count(self) -> int:
        """Rows changed through this connection so far: unchanged after a mutation that changed nothing."""
        return int(self.conn.total_changes)

    def _face_record(self, identity: str, row: tuple[Any, ...]) -> FaceRecord:
        bbox = json.loads(row[4])
        return FaceRecord(
            face_id=row[0],
            identity=identity,
            pack=row[1],
            dim=row[2],
            det_score=row[3],
            bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
            image_sha256=row[5],
            created_at=row[6],
            source=row[7],
            quality=row[8],
        )

    def face(self, face_id: str) -> StoredFace:
        """One face with its embedding; not_found if unknown."""
        with sqlite_errors(self.description):
            row = self.conn.execute(
                f"SELECT {_FACE_COLUMNS}, i.name, f.embedding FROM faces f "
                "JOIN identities i ON i.id = f.identity_id WHERE f.face_id = ?",
                (face_id,),
            ).fetchone()
        if row is None:
            raise FRSError("not_found", f"face {face_id!r} not found")
        return StoredFace(self._face_record(row[9], row[:9]), _embedding(row[10]))

    def iter_identities(self) -> Iterator[Identity]:
        """Every identity (no faces, face_count 0), in name order, fetched in batches."""
        after: str | None = None
        while True:
            with sqlite_errors(self.description):
                rows = self.conn.execute(
                    "SELECT name, metadata, created_at, updated_at, expires_at FROM identities "
                    "WHERE ? IS NULL OR name > ? ORDER BY name LIMIT ?",
                    (after, after, STREAM_BATCH),
                ).fetchall()
            for r in rows:
                yield Identity(
                    name=r[0],
                    metadata=json.loads(r[1]),
                    created_at=r[2],
                    updated_at=r[3],
                    face_count=0,
                    expires_at=r[4],
                )
            if len(rows) < STREAM_BATCH:
                return
            after = rows[-1][0]

    def iter_faces(self) -> Iterator[StoredFace]:
        """Every face with its embedding, in face_id order, fetched in batches."""
        after = ""
        while True:
            with sqlite_errors(self.description):
                rows = self.conn.execute(
                    f"SELECT {_FACE_COLUMNS}, i.name, f.embedding FROM faces f "
                    "JOIN identities i ON i.id = f.identity_id WHERE f.face_id > ? "
                    "ORDER BY f.face_id LIMIT ?",
                    (after, STREAM_BATCH),
                ).fetchall()
            for row in rows:
                yield StoredFace(self._face_record(row[9], row[:9]), _embedding(row[10]))
            if len(rows) < STREAM_BATCH:
                return
            after = rows[-1][0]

    def existing_face_ids(self, face_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(face_ids), 500):
            chunk = list(face_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            with sqlite_errors(self.description):
                found.update(
                    str(r[0])
                    for r in self.conn.execute(f"SELECT face_id FROM faces WHERE face_id IN ({marks})", chunk)
                )
        return found

    # ----- mutations ---------------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with sqlite_errors(self.description):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # SQLite already rolled back after e.g. SQLITE_FULL
                    self.conn.execute("ROLLBACK")
                raise

    def add_faces(
        self,
        items: Sequence[tuple[str, NewFace, str | None]],
        pack: PackInfo,
        expires_at: str | None = None,
    ) -> list[AddResult]:
        """Enrol validated faces (metadata as JSON text or None to keep the current one) in one transaction.

        Re-adding an image (same ``image_sha256``) to the same identity returns the existing face with
        ``created=False``. The first face binds the gallery to ``pack``; later faces of another pack raise
        ``pack_mismatch``. A gallery stays bound after all its faces are deleted.
        """
        results: list[AddResult] = []
        with self._transaction():
            self._bind_pack(pack)
            days = self.retention_days()
            for name, face, metadata in items:
                results.append(self._add_one(name, face, metadata, pack, expires_at, days))
        return results

    def _bind_pack(self, pack: PackInfo) -> None:
        bound = self.pack()
        if bound is None:
            self.conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", [("pack", pack.name), ("dim", str(pack.dim))]
            )
        elif bound != pack:
            raise FRSError(
                "pack_mismatch",
                f"gallery holds embeddings of pack {bound.name!r} (dim {bound.dim}), "
                f"not {pack.name!r} (dim {pack.dim})",
            )

    def _add_one(
        self,
        name: str,
        face: NewFace,
        metadata: str | None,
        pack: PackInfo,
        expires_at: str | None = None,
        retention_days: float | None = None,
    ) -> AddResult:
        now = now_iso()
        row = self.conn.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
        if row is None:
            if expires_at is None and retention_days is not None:
                expires_at = later_iso(retention_days)
            cursor = self.conn.execute(
                "INSERT INTO identities (name, metadata, created_at, updated_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, metadata or "{}", now, now, expires_at),
            )
            identity_id = cursor.lastrowid
        else:
            identity_id = row[0]
            if expires_at is not None:
                self.conn.execute(
                    "UPDATE identities SET expires_at = ?, updated_at = ? WHERE id = ?",
                    (expires_at, now, identity_id),
                )
            if metadata is not None:
                self.conn.execute(
                    "UPDATE identities SET metadata = ?, updated_at = ? WHERE id = ?",
                    (metadata, now, identity_id),
                )
        existing = self.conn.execute(
            "SELECT face_id FROM faces WHERE identity_id = ? AND image_sha256 = ?",
            (identity_id, face.image_sha256),
        ).fetchone()
        if existing is not None:
            face_id, created = existing[0], False
        else:
            face_id, created = face.face_id or str(uuid.uuid4()), True
            self.conn.execute(
                "INSERT INTO faces (face_id, identity_id, embedding, pack, dim, det_score, bbox, "
                "image_sha256, created_at, source, quality) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    face_id,
                    identity_id,
                    face.embedding.astype("<f4").tobytes(),
                    pack.name,
                    pack.dim,
                    face.det_score,
                    json.dumps(list(face.bbox)),
                    face.image_sha256,
                    now,
                    face.source,
                    face.quality,
                ),
            )
            self.conn.execute("UPDATE identities SET updated_at = ? WHERE id = ?", (now, identity_id))
        count = self.conn.execute(
            "SELECT COUNT(*) FROM faces WHERE identity_id = ?", (identity_id,)
        ).fetchone()[0]
        return AddResult(face_id=face_id, identity=name, face_count=count, created=created)

    def delete_identity(self, name: str) -> int:
        """Delete an identity and its faces; returns the number of faces removed; not_found if unknown."""
        with self._transaction():
            row = self.conn.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            removed: int = self.conn.execute("DELETE FROM faces WHERE identity_id = ?", (row[0],)).rowcount
            self.conn.execute("DELETE FROM identities WHERE id = ?", (row[0],))
        return removed

    def set_retention(self, days: float | None) -> None:
        """The gallery's default retention for identities created from now on (None: none)."""
        with self._transaction():
            if days is None:
                self.conn.execute("DELETE FROM meta WHERE key = 'retention_days'")
            else:
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('retention_days', ?)", (repr(days),)
                )

    def purge_expired(self, now: str) -> list[tuple[str, list[str]]]:
        """Delete every identity expired at ``now`` with its faces (secure_delete: their bytes are zeroed,
        and the compacted upload carries no free page); (name, face ids) of each."""
        purged: list[tuple[str, list[str]]] = []
        with self._transaction():
            rows = self.conn.execute(
                "SELECT id, name FROM identities WHERE expires_at IS NOT NULL AND expires_at <= ? "
                "ORDER BY name",
                (now,),
            ).fetchall()
            for identity_id, name in rows:
                faces = [
                    str(r[0])
                    for r in self.conn.execute(
                        "SELECT face_id FROM faces WHERE identity_id = ? ORDER BY rowid", (identity_id,)
                    )
                ]
                self.conn.execute("DELETE FROM faces WHERE identity_id = ?", (identity_id,))
                self.conn.execute("DELETE FROM identities WHERE id = ?", (identity_id,))
                purged.append((str(name), faces))
        return purged

    def delete_face(self, face_id: str) -> FaceRecord:
        """Delete one face and return what it was; the identity stays; not_found if unknown."""
        with self._transaction():
            row = self.conn.execute(
                f"SELECT {_FACE_COLUMNS}, i.name, i.id FROM faces f "
                "JOIN identities i ON i.id = f.identity_id "
                "WHERE f.face_id = ?",
                (face_id,),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            self.conn.execute("DELETE FROM faces WHERE face_id = ?", (face_id,))
            self.conn.execute("UPDATE identities SET updated_at = ? WHERE id = ?", (now_iso(), row[10]))
        return self._face_record(row[9], row[:9])

    # ----- identity edits ----------------------------------------------------------------------------------

    def _identity_row(self, name: str) -> tuple[int, dict[str, Any]]:
        row = self.conn.execute("SELECT id, metadata FROM identities WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise FRSError("not_found", f"identity {name!r} not found")
        return int(row[0]), json.loads(row[1])

    def _summary(self, name: str) -> Identity:
        identity = self.get(name)
        return dataclasses.replace(identity, faces=())

    def rename_identity(self, name: str, new_name: str) -> Identity:
        with self._transaction():
            identity_id, _ = self._identity_row(name)
            if self.conn.execute("SELECT 1 FROM identities WHERE name = ?", (new_name,)).fetchone():
                raise FRSError("identity_exists", f"identity {new_name!r} already exists")
            self.conn.execute(
                "UPDATE identities SET name = ?, updated_at = ? WHERE id = ?",
                (new_name, now_iso(), identity_id),
            )
        return self._summary(new_name)

    def merge_identities(self, name: str, sources: Sequence[str]) -> MergeResult:
        with self._transaction():
            target_id, metadata = self._identity_row(name)
            rows = [self._identity_row(source) for source in sources]
            merged = validation.merged_identity_metadata(metadata, [meta for _, meta in rows])
            text = validation.serialize_metadata(merged)  # a merge over 4 KiB is refused, nothing written
            moved = dropped = 0
            for source_id, _ in rows:
                dropped += self.conn.execute(
                    "DELETE FROM faces WHERE identity_id = ? AND image_sha256 IN "
                    "(SELECT image_sha256 FROM faces WHERE identity_id = ?)",
                    (source_id, target_id),
                ).rowcount
                moved += self.conn.execute(
                    "UPDATE faces SET identity_id = ? WHERE identity_id = ?", (target_id, source_id)
                ).rowcount
                self.conn.execute("DELETE FROM identities WHERE id = ?", (source_id,))
            self.conn.execute(
                "UPDATE identities SET metadata = ?, updated_at = ? WHERE id = ?",
                (text, now_iso(), target_id),
            )
        return MergeResult(self._summary(name), faces_moved=moved, duplicates_dropped=dropped)

    def move_face(self, face_id: str, name: str) -> MoveResult:
        with self._transaction():
            row = self.conn.execute(
                "SELECT f.identity_id, f.image_sha256, i.name FROM faces f "
                "JOIN identities i ON i.id = f.identity_id WHERE f.face_id = ?",
                (face_id,),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            source_id, sha, previous = int(row[0]), str(row[1]), str(row[2])
            target_id, _ = self._identity_row(name)
            if target_id != source_id:
                if self.conn.execute(
                    "SELECT 1 FROM faces WHERE identity_id = ? AND image_sha256 = ?", (target_id, sha)
                ).fetchone():
                    raise FRSError("duplicate_face", f"identity {name!r} already has a face from this photo")
                now = now_iso()
                self.conn.execute("UPDATE faces SET identity_id = ? WHERE face_id = ?", (target_id, face_id))
                self.conn.execute(
                    "UPDATE identities SET updated_at = ? WHERE id IN (?, ?)", (now, source_id, target_id)
                )
        return MoveResult(self.face(face_id).record, previous_identity=previous)

    def update_metadata(
        self, name: str, metadata: dict[str, Any] | None, mode: str, expires_at: ExpiryChange = KEEP
    ) -> Identity:
        """Metadata (None: unchanged) and expiry (KEEP: unchanged, None: never expires) in one transaction:
        a refused metadata change leaves the expiry as it was, and the other way round."""
        with self._transaction():
            identity_id, stored = self._identity_row(name)
            now = now_iso()
            if metadata is not None:
                new = validation.merge_metadata(stored, metadata) if mode == "merge" else metadata
                self.conn.execute(
                    "UPDATE identities SET metadata = ?, updated_at = ? WHERE id = ?",
                    (validation.serialize_metadata(new), now, identity_id),
                )
            if expires_at is not KEEP:
                self.conn.execute(
                    "UPDATE identities SET expires_at = ?, updated_at = ? WHERE id = ?",
                    (expires_at, now, identity_id),
                )
        return self._summary(name)

    # ----- bulk import -------------------------------------------------------------------------------------

    def import_records(
        self, records: Iterator[Identity | StoredFace], pack: PackInfo, *, replace: bool = False
    ) -> ImportResult:
        """Insert identities and faces as given (ids, times), skipping what exists; one transaction."""
        identities = faces = added = 0
        with self._transaction():
            if replace:
                self.conn.execute("DELETE FROM faces")
                self.conn.execute("DELETE FROM identities")
            self._bind_pack(pack)
            batch: list[tuple[Any, ...]] = []

            def flush() -> int:
                before = self.conn.total_changes
                self.conn.executemany(
                    "INSERT OR IGNORE INTO faces (face_id, identity_id, embedding, pack, dim, det_score, "
                    "bbox, "
                    "image_sha256, created_at, source, quality) "
                    "SELECT ?, id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM identities WHERE name = ?",
                    batch,
                )
                added = self.conn.total_changes - before
                batch.clear()
                return added

            for item in records:
                if isinstance(item, Identity):
                    cursor = self.conn.execute(
                        "INSERT OR IGNORE INTO identities "
                        "(name, metadata, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                        (
                            item.name,
                            validation.serialize_metadata(item.metadata),
                            item.created_at,
                            item.updated_at,
                            item.expires_at,
                        ),
                    )
                    identities += cursor.rowcount
                    continue
                record = item.record
                if record.pack != pack.name or record.dim != pack.dim:
                    raise FRSError(
                        "pack_mismatch",
                        f"face {record.face_id} is of pack {record.pack!r}, not {pack.name!r}",
                    )
                faces += 1
                batch.append(
                    (
                        record.face_id,
                        np.ascontiguousarray(item.embedding, dtype="<f4").tobytes(),
                        pack.name,
                        pack.dim,
                        record.det_score,
                        json.dumps(list(record.bbox)),
                        record.image_sha256,
                        record.created_at,
                        record.source,
                        record.quality,
                        record.identity,
                    )
                )
                if len(batch) >= STREAM_BATCH:
                    added += flush()
            added += flush()
        return ImportResult(identities_added=identities, faces_added=added, faces_skipped=faces - added)

    def write_id(self) -> str | None:
        """The id of the write that produced this version (lets a writer recognise its own upload)."""
        with sqlite_errors(self.description):
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'write_id'").fetchone()
        return str(row[0]) if row else None

    def recent_write_ids(self) -> list[str]:
        """Ids of the last writes that built this version (newest last): a writer whose answer was lost
        recognises its upload even after other writers have built on it."""
        with sqlite_errors(self.description):
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'recent_write_ids'").fetchone()
        try:
            ids = json.loads(row[0]) if row else []
        except (TypeError, ValueError):
            ids = []
        latest = self.write_id()
        history = [str(i) for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
        return history if latest is None or latest in history else [*history, latest]

    def set_write_id(self, write_id: str) -> None:
        """Stamp this version with the id of the write producing it (and remember the last few)."""
        history = [*self.recent_write_ids(), write_id][-RECENT_WRITE_IDS:]
        with self._transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('write_id', ?)", (write_id,))
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('recent_write_ids', ?)",
                (json.dumps(history),),
            )

    def copy_to(self, path: Path) -> None:
        """Copy this database page by page into a new file (works even if our file was unlinked meanwhile)."""
        target = sqlite3.connect(str(path))
        try:
            with sqlite_errors(f"a working copy of {self.description}"):
                self.conn.backup(target)
        finally:
            target.close()

    def compact_into(self, destination: Path) -> None:
        """Write a compacted copy (VACUUM INTO): free pages, so deleted embeddings, are not carried over."""
        with sqlite_errors(self.description):
            self.conn.execute("VACUUM INTO ?", (str(destination),))
