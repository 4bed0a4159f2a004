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

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from frs.errors import FRSError
from frs.gallery.paging import encode_page_token
from frs.gallery.search.matrix import MatrixData
from frs.gallery.types import AddResult, Embedding, FaceRecord, Identity, ListPage, NewFace
from frs.packs.info import PackInfo

SCHEMA_VERSION = 1
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


#: target version -> step that upgrades a file from the previous version. Append, never edit.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_to_v1}


def now_iso() -> str:
    """Current UTC time, ISO 8601 with milliseconds and a Z suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
                "SELECT id, metadata, created_at, updated_at FROM identities WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            faces = tuple(
                self._face_record(name, face)
                for face in self.conn.execute(
                    "SELECT face_id, pack, dim, det_score, bbox, image_sha256, created_at FROM faces "
                    "WHERE identity_id = ? ORDER BY rowid",
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
            "(SELECT COUNT(*) FROM faces WHERE faces.identity_id = identities.id) "
            f"FROM identities {where} ORDER BY name LIMIT ?"
        )
        with sqlite_errors(self.description):
            rows = self.conn.execute(sql, [*params, page_size + 1]).fetchall()
        identities = tuple(
            Identity(name=r[0], metadata=json.loads(r[1]), created_at=r[2], updated_at=r[3], face_count=r[4])
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
        )

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

    def add_faces(self, items: Sequence[tuple[str, NewFace, str | None]], pack: PackInfo) -> list[AddResult]:
        """Enrol validated faces (metadata as JSON text or None to keep the current one) in one transaction.

        Re-adding an image (same ``image_sha256``) to the same identity returns the existing face with
        ``created=False``. The first face binds the gallery to ``pack``; later faces of another pack raise
        ``pack_mismatch``. A gallery stays bound after all its faces are deleted.
        """
        results: list[AddResult] = []
        with self._transaction():
            self._bind_pack(pack)
            for name, face, metadata in items:
                results.append(self._add_one(name, face, metadata, pack))
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

    def _add_one(self, name: str, face: NewFace, metadata: str | None, pack: PackInfo) -> AddResult:
        now = now_iso()
        row = self.conn.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
        if row is None:
            cursor = self.conn.execute(
                "INSERT INTO identities (name, metadata, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (name, metadata or "{}", now, now),
            )
            identity_id = cursor.lastrowid
        else:
            identity_id = row[0]
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
                "image_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    def delete_face(self, face_id: str) -> FaceRecord:
        """Delete one face and return what it was; the identity stays; not_found if unknown."""
        with self._transaction():
            row = self.conn.execute(
                "SELECT f.face_id, f.pack, f.dim, f.det_score, f.bbox, f.image_sha256, f.created_at, "
                "i.name, i.id FROM faces f JOIN identities i ON i.id = f.identity_id WHERE f.face_id = ?",
                (face_id,),
            ).fetchone()
            if row is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            self.conn.execute("DELETE FROM faces WHERE face_id = ?", (face_id,))
            self.conn.execute("UPDATE identities SET updated_at = ? WHERE id = ?", (now_iso(), row[8]))
        return self._face_record(row[7], row[:7])

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
