"""A gallery stored as one SQLite file in a shared location (local directory or S3), cached locally.

Reads use a local, immutable copy of the file, identified by the ETag it was downloaded with. The copy is
revalidated at most every ``sync_ttl`` seconds with a conditional download (unchanged -> nothing transferred).
Cached copies live at ``<cache>/<etag as hex>.sqlite`` so a later process (a CLI run, a warm container) can
revalidate a copy left on disk instead of downloading it again.

Writes are optimistic: copy the cached version to a private work file, apply the mutation, compact it with
``VACUUM INTO`` (deleted embeddings must not survive in free pages), then upload it only if the shared object
is still the version the change was based on. If another writer got there first, back off (jittered,
exponential), download its version, re-apply the same mutation and try again; after ``max_write_attempts``
attempts or ``max_write_seconds`` give up with ``FRSError('conflict')``. Each version carries a random
``write_id`` so a writer whose upload did land but whose answer got lost recognises its own version instead of
applying the change twice.

Large galleries (``FRS_ANN_MIN_FACES`` faces and more) are searched through an ANN index stored next to the
file; :mod:`frs.gallery.search.ann.manager` describes how writers keep it current and why results stay
exact-scored.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from frs.errors import FRSError
from frs.gallery import validation
from frs.gallery.file.diskio import disk_errors, publish, remove_quietly, temp_path
from frs.gallery.file.store import GalleryDB, check_file, open_snapshot, open_working_copy, upgrade_file
from frs.gallery.file.transports.protocol import GALLERY_SUFFIX, PreconditionFailed, Transport
from frs.gallery.paging import decode_page_token
from frs.gallery.search.ann.manager import DEFAULT_MIN_FACES, AnnIndexManager
from frs.gallery.search.ann.matcher import AnnMatcher
from frs.gallery.search.exact import Matcher
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
from frs.packs.info import PackInfo

T = TypeVar("T")

#: Test hook: called with the compacted snapshot just before it is uploaded (lets a test kill a writer there).
before_upload: Callable[[Path], None] | None = None

_STALE_TEMP_SECONDS = 3600
_MAX_ETAG_HEX = 180  # keeps cache file names well under the 255-byte limit


@dataclass
class _Version:
    """One immutable version of the gallery file as cached locally; ``etag=None``: there is no object."""

    etag: str | None
    path: Path | None = None
    db: GalleryDB | None = None
    pack: PackInfo | None = None
    matcher: Matcher | None = field(default=None, repr=False)
    faces: int | None = None  # face count, once asked for before the matcher is built

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


@dataclass(frozen=True)
class _Outcome(Generic[T]):
    """Result of one write attempt: the mutation's answer and whether its version was uploaded."""

    result: T
    write_id: str
    uploaded: bool


class SyncedGallery:
    """A :class:`frs.gallery.types.Gallery` over a transport (local directory or S3) with a local cache."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        cache_dir: Path,
        *,
        sync_ttl: float = 5.0,
        max_write_attempts: int = 40,
        max_write_seconds: float = 25.0,
        backoff_base: float = 0.02,
        backoff_cap: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        ann_min_faces: int = DEFAULT_MIN_FACES,
    ) -> None:
        self.name = validation.validate_gallery_name(name)
        self._key = name + GALLERY_SUFFIX
        self._transport = transport
        self._cache = cache_dir / name
        self._ttl = sync_ttl
        self._max_write_attempts = max(1, max_write_attempts)
        self._max_write_seconds = max_write_seconds
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._clock = clock
        self._lock = threading.RLock()
        self._held = threading.local()  # .db: the version this thread's snapshot() reads
        self._version: _Version | None = None
        self._validated_at = 0.0
        #: Writes of this object that lost an If-Match race (S3 answered 412) and were re-applied.
        self.lost_races = 0
        try:
            with disk_errors(f"creating the cache directory {self._cache}"):
                self._cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FRSError(
                "storage_misconfigured",
                f"gallery cache directory {self._cache} is not usable: {exc.strerror}",
            ) from exc
        self._remove_stale_temps()
        self._ann = AnnIndexManager(
            name, transport, self._cache, recheck_seconds=sync_ttl, clock=clock, min_faces=ann_min_faces
        )

    # ----- Gallery interface: reads ------------------------------------------------------------------------

    def pack(self) -> PackInfo | None:
        """The pack this gallery is bound to, or None while no face was ever enrolled."""
        with self._lock:
            return self._current().pack

    def search(self, embeddings: Embedding, *, pack: PackInfo, top_k: int) -> list[list[Candidate]]:
        """Top ``top_k`` identities for each query row; empty lists while the gallery has no faces."""
        pack = validation.validate_pack(pack)
        top_k = validation.validate_top_k(top_k)
        queries = validation.validate_queries(embeddings, pack.dim)
        with self._lock:
            version = self._current()
            if version.pack is None or version.db is None:
                return [[] for _ in range(queries.shape[0])]
            self._check_pack(version.pack, pack)
            version.matcher = self._ann.matcher(version.db, version.matcher, version.etag)
            matcher = version.matcher
        return matcher.search(queries, top_k)

    def face_count(self) -> int:
        """Faces in the current version: counted once per version (the matrix knows it once loaded)."""
        with self._lock:
            version = self._current()
            if version.db is None:
                return 0
            if version.matcher is not None:
                return version.matcher.face_count
            if version.faces is None:
                version.faces = version.db.face_count()
            return version.faces

    def identity_similarity(self, name: str, embedding: Embedding, *, pack: PackInfo) -> float:
        """Max similarity between ``embedding`` and the faces of ``name``.

        ``not_found`` if the identity is unknown or has no faces left.
        """
        name = validation.validate_identity_name(name)
        pack = validation.validate_pack(pack)
        query = validation.validate_embedding(embedding, pack.dim)
        with self._lock:
            version = self._current()
            if version.db is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            if version.pack is not None:
                self._check_pack(version.pack, pack)
            faces = version.db.identity_embeddings(name)
        if faces.shape[0] == 0:
            raise FRSError("not_found", f"identity {name!r} has no enrolled faces")
        return float(min(1.0, max(-1.0, float((faces @ query).max()))))

    def get(self, name: str) -> Identity:
        """The identity with all its faces; ``not_found`` if unknown."""
        name = validation.validate_identity_name(name)
        with self._lock:
            version = self._current()
            if version.db is None:
                raise FRSError("not_found", f"identity {name!r} not found")
            return version.db.get(name)

    # ----- Gallery interface: writes -----------------------------------------------------------------------

    def add_face(
        self,
        identity: str,
        face: NewFace,
        *,
        pack: PackInfo,
        metadata: dict[str, Any] | None = None,
        expires_at: str | None = None,
    ) -> AddResult:
        """Enrol one face (see :meth:`add_faces`); ``expires_at`` (ISO 8601 UTC) sets when it expires."""
        return self.add_faces([(identity, face, metadata)], pack=pack, expires_at=expires_at)[0]

    def add_faces(
        self,
        items: list[tuple[str, NewFace, dict[str, Any] | None]],
        *,
        pack: PackInfo,
        expires_at: str | None = None,
    ) -> list[AddResult]:
        """Enrol many faces in one upload. ``metadata=None`` keeps an existing identity's metadata; a dict
        replaces it. Re-adding the same image to the same identity returns ``created=False``."""
        pack = validation.validate_pack(pack)
        prepared = [
            (
                validation.validate_identity_name(name),
                validation.validate_new_face(face, pack.dim),
                None if metadata is None else validation.serialize_metadata(metadata),
            )
            for name, face, metadata in items
        ]
        if not prepared:
            return []
        return self._write(lambda db: db.add_faces(prepared, pack, expires_at))

    def delete_identity(self, name: str) -> list[str]:
        """Delete an identity and all its faces; returns the removed faces' ids, in enrolment order."""
        name = validation.validate_identity_name(name)
        return self._write(lambda db: db.delete_identity(name))

    def delete_face(self, face_id: str) -> FaceRecord:
        """Delete one face; the identity stays (possibly with zero faces)."""
        face_id = validation.validate_face_id(face_id)
        return self._write(lambda db: db.delete_face(face_id))

    # ----- identity edits -----------------------------------------------------------------------------------

    def face(self, face_id: str) -> StoredFace:
        face_id = validation.validate_face_id(face_id)
        with self._lock:
            version = self._current()
            if version.db is None:
                raise FRSError("not_found", f"face {face_id!r} not found")
            return version.db.face(face_id)

    def rename_identity(self, name: str, new_name: str) -> Identity:
        name = validation.validate_identity_name(name)
        new_name = validation.validate_identity_name(new_name)
        if new_name == name:
            raise FRSError("bad_request", "new_name is the identity's current name")
        return self._write(lambda db: db.rename_identity(name, new_name))

    def merge_identities(self, name: str, sources: list[str]) -> MergeResult:
        name = validation.validate_identity_name(name)
        names = validation.validate_merge_sources(name, sources)
        return self._write(lambda db: db.merge_identities(name, names))

    def move_face(self, face_id: str, name: str) -> MoveResult:
        face_id = validation.validate_face_id(face_id)
        name = validation.validate_identity_name(name)
        return self._write(lambda db: db.move_face(face_id, name))

    def update_metadata(
        self,
        name: str,
        metadata: dict[str, Any] | None,
        mode: MetadataMode,
        *,
        expires_at: ExpiryChange = KEEP,
    ) -> Identity:
        """See the Gallery protocol; ``expires_at`` (ISO 8601 UTC, or None to clear) moves the expiry in the
        same write, and ``metadata=None`` leaves the metadata as it is. A lost race replays both."""
        name, patch, checked = validation.validate_metadata_update(
            name, metadata, mode, changes_expiry=expires_at is not KEEP
        )
        return self._write(lambda db: db.update_metadata(name, patch, checked, expires_at))

    # ----- bulk transfer -----------------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """This thread's streaming reads all use one private handle on the current version."""
        with self._pinned() as db:
            self._held.db = db
            try:
                yield
            finally:
                del self._held.db

    @contextmanager
    def _pinned(self) -> Iterator[GalleryDB | None]:
        """A private read handle on the current version (stays valid while later versions replace it); inside
        :meth:`snapshot`, the snapshot's."""
        if hasattr(self._held, "db"):
            yield self._held.db
            return
        for attempt in (1, 2):
            with self._lock:
                version = self._current()
                path = version.path
            if path is None:
                yield None
                return
            try:
                db = open_snapshot(path, self._transport.describe(self._key))
            except FileNotFoundError:
                if attempt == 2:
                    raise
                self.refresh()
                continue
            try:
                yield db
            finally:
                db.close()
            return

    def iter_identities(self) -> Iterator[Identity]:
        with self._pinned() as db:
            if db is not None:
                yield from db.iter_identities()

    def iter_faces(self) -> Iterator[StoredFace]:
        with self._pinned() as db:
            if db is not None:
                yield from db.iter_faces()

    def existing_face_ids(self, face_ids: list[str]) -> set[str]:
        with self._lock:
            version = self._current()
            return set() if version.db is None else version.db.existing_face_ids(face_ids)

    def bulk_load(self, faces: int) -> AbstractContextManager[None]:
        """Nothing to prepare: each ``import_records`` is one upload of the whole file."""
        return nullcontext()

    def import_records(
        self, records: ImportRecords, *, pack: PackInfo, replace: bool = False
    ) -> ImportResult:
        """One upload holding every record (read again from the start if another writer won the race)."""
        pack = validation.validate_pack(pack)
        return self._write(lambda db: db.import_records(records(), pack, replace=replace))

    # ----- extras beyond the Gallery protocol --------------------------------------------------------------

    def restore_version(self, version_id: str) -> str:
        """Make an earlier object version (S3 ``VersionId``) the current gallery again, through the normal
        conditional upload (re-based on the newest version if another writer wins the race, so no write is
        lost without trace: the replaced version stays in the bucket's history). Returns the new ETag.

        ``bad_request`` when the transport keeps no versions (a local directory), ``not_found`` for an
        unknown version, ``storage_misconfigured`` when that version is not an FRS gallery file."""
        fetch_version = getattr(self._transport, "fetch_version", None)
        if fetch_version is None:
            raise FRSError("bad_request", "only S3 galleries keep earlier versions (use --from-export)")
        description = self._transport.describe(self._key)
        with disk_errors(f"restoring {description}"):
            download = temp_path(self._cache, "restore")
        try:
            fetch_version(self._key, version_id, download)
            upgrade_file(download, f"{description} version {version_id}")
            with self._lock:
                self._write(lambda db: None, start_from=download)
                assert self._version is not None and self._version.etag is not None
                return self._version.etag
        finally:
            remove_quietly(download)

    supports_retention = True

    def expired_names(self, now: str) -> list[str]:
        """Identities expired at ``now`` in the current version (what identify must never name)."""
        with self._lock:
            version = self._current()
            return [] if version.db is None else version.db.expired_names(now)

    def retention_days(self) -> float | None:
        with self._lock:
            version = self._current()
            return None if version.db is None else version.db.retention_days()

    def set_retention(self, days: float | None) -> None:
        self._write(lambda db: db.set_retention(days))

    def purge_expired(self, now: str) -> list[tuple[str, list[str]]]:
        """Securely delete every identity expired at ``now`` (one compacted upload); (name, face ids)."""
        return self._write(lambda db: db.purge_expired(now))

    def refresh(self) -> str | None:
        """Revalidate the cached copy now (ignoring the TTL); returns the current ETag, None if no object."""
        with self._lock:
            self._revalidate()
            assert self._version is not None
            return self._version.etag

    def search_index_tag(self) -> str | None:
        """The gallery version (write id) the ANN index serving searches describes; None: exact search."""
        with self._lock:
            matcher = self._version.matcher if self._version is not None else None
            return matcher.tag if isinstance(matcher, AnnMatcher) else None

    def close(self) -> None:
        """Release the cached database handle and matrix."""
        with self._lock:
            if self._version is not None:
                self._version.close()
            self._version = None

    # ----- cache and sync ----------------------------------------------------------------------------------

    @staticmethod
    def _check_pack(bound: PackInfo, requested: PackInfo) -> None:
        if bound != requested:
            raise FRSError(
                "pack_mismatch",
                f"gallery holds embeddings of pack {bound.name!r} (dim {bound.dim}), "
                f"not {requested.name!r} (dim {requested.dim})",
            )

    def _current(self) -> _Version:
        """The cached version, revalidated first if the TTL has passed."""
        if self._version is None or self._clock() - self._validated_at >= self._ttl:
            self._revalidate()
        assert self._version is not None
        return self._version

    def _cache_path(self, etag: str) -> Path:
        encoded = etag.encode("utf-8").hex()
        if len(encoded) > _MAX_ETAG_HEX:
            # Too long to keep in a file name: cache under a random name, which no cold start will reuse.
            return self._cache / f"x{uuid.uuid4().hex}{GALLERY_SUFFIX}"
        return self._cache / f"{encoded}{GALLERY_SUFFIX}"

    def _copy_left_on_disk(self) -> tuple[str, Path] | None:
        """The newest cached copy a previous process left, with its ETag (decoded from the file name)."""
        candidates = []
        for path in self._cache.glob(f"*{GALLERY_SUFFIX}"):
            try:
                etag = bytes.fromhex(path.name[: -len(GALLERY_SUFFIX)]).decode("utf-8")
                candidates.append((path.stat().st_mtime, etag, path))
            except (ValueError, OSError):
                continue
        if not candidates:
            return None
        _, etag, path = max(candidates)
        return etag, path

    def _revalidate(self) -> None:
        """Conditionally download the shared object and install it as the current version."""
        on_disk = self._copy_left_on_disk() if self._version is None else None
        known_etag = self._version.etag if self._version is not None else (on_disk[0] if on_disk else None)
        with disk_errors(f"caching {self._transport.describe(self._key)}"):
            download = temp_path(self._cache, "download")
        try:
            result = self._transport.fetch(self._key, download, known_etag)
            if result.status == "not_modified" and self._version is None and on_disk is not None:
                try:
                    self._install(on_disk[0], on_disk[1])
                except (FileNotFoundError, FRSError) as exc:
                    if isinstance(exc, FRSError) and exc.code != "storage_misconfigured":
                        raise
                    # The copy vanished (another process moved on) or is damaged: download it afresh.
                    remove_quietly(on_disk[1])
                    result = self._transport.fetch(self._key, download, None)
            if result.status == "missing":
                self._install(None, None)
            elif result.status == "downloaded":
                assert result.etag is not None
                description = self._transport.describe(self._key)
                upgrade_file(download, description)  # refuses files that are not (current) FRS galleries
                final = self._cache_path(result.etag)
                self._install(result.etag, download, final)
                if on_disk is not None and on_disk[1] != final:
                    remove_quietly(on_disk[1])  # an outdated copy from an earlier process
        finally:
            remove_quietly(download)
        self._validated_at = self._clock()

    def _install(self, etag: str | None, source: Path | None, final: Path | None = None) -> None:
        """Make a version current: open ``source``, move it to ``final``, release the previous copy.

        The file is opened *before* it is moved into the shared cache directory: another process sharing the
        cache may delete a published copy at any moment, but an open handle keeps it readable.
        """
        db = None
        if source is not None:
            db = open_snapshot(source, self._transport.describe(self._key))
            try:
                if final is not None and final != source:
                    with disk_errors(f"caching {self._transport.describe(self._key)}"):
                        publish(source, final)
            except BaseException:
                db.close()
                raise
        version = _Version(etag=etag, path=final or source, db=db, pack=db.pack() if db else None)
        previous = self._version
        self._version = version
        if previous is not None:
            previous.close()
            if previous.path is not None and previous.path != version.path:
                remove_quietly(previous.path)

    def _write(self, mutation: Callable[[GalleryDB], T], *, start_from: Path | None = None) -> T:
        """Apply ``mutation`` to the shared file with optimistic concurrency (see the module docstring).

        ``start_from``: build the new version from this gallery file instead of the current version (a
        restore); it is uploaded even when ``mutation`` changes nothing."""
        with self._lock:
            fresh = False
            conflicts = 0
            deadline = time.monotonic() + self._max_write_seconds
            for attempt in range(self._max_write_attempts):
                if attempt > 0 and time.monotonic() > deadline:
                    break
                if self._version is None:
                    self._revalidate()
                    fresh = True
                try:
                    outcome = self._attempt_write(mutation, start_from)
                except FRSError as exc:
                    if fresh or exc.code not in (
                        "not_found",
                        "pack_mismatch",
                        "identity_exists",
                        "duplicate_face",
                    ):
                        raise
                    # The answer may come from a stale cache: decide again on the latest version.
                    self._revalidate()
                    fresh = True
                    continue
                if outcome.uploaded:
                    return outcome.result
                conflicts += 1
                self.lost_races += 1
                # Another writer won. Back off first and re-read afterwards, so the retry starts from the
                # newest possible version (re-reading before sleeping would let the winner move on again).
                self._sleep_backoff(attempt)
                self._revalidate()
                fresh = True
                current = self._version
                if (
                    current is not None
                    and current.db is not None
                    and outcome.write_id in current.db.recent_write_ids()
                ):
                    return (
                        outcome.result
                    )  # our upload did land (maybe built on since); only its answer was lost
            raise FRSError(
                "conflict",
                f"gallery {self.name!r} kept changing under concurrent writers; "
                f"gave up after {conflicts} lost races, try again",
            )

    def _attempt_write(
        self, mutation: Callable[[GalleryDB], T], start_from: Path | None = None
    ) -> _Outcome[T]:
        """One optimistic attempt based on the cached version; ``uploaded=False`` if another writer won."""
        assert self._version is not None
        base = self._version
        description = self._transport.describe(self._key)
        write_id = uuid.uuid4().hex
        work = snapshot = None
        try:
            with disk_errors(f"preparing a new version of {description}"):
                work = temp_path(self._cache, "work")
                snapshot = temp_path(self._cache, "snapshot")
                if start_from is not None:
                    shutil.copyfile(start_from, work)
                elif base.db is not None:
                    base.db.copy_to(work)
                db = open_working_copy(work, description)
                try:
                    changes_before = db.change_count()
                    result = mutation(db)
                    if start_from is None and db.change_count() == changes_before:
                        # Nothing changed (e.g. an idempotent re-add): no new version to upload.
                        return _Outcome(result, write_id, uploaded=True)
                    db.set_write_id(write_id)
                    db.compact_into(snapshot)
                finally:
                    db.close()
                remove_quietly(work)
                work = None
                check_file(snapshot, description)
            if before_upload is not None:
                before_upload(snapshot)
            try:
                etag = self._transport.put(self._key, snapshot, base.etag)
            except PreconditionFailed:
                return _Outcome(result, write_id, uploaded=False)
            self._install(etag, snapshot, self._cache_path(etag))
            snapshot = None
            self._validated_at = self._clock()
            self._publish_search_index()
            return _Outcome(result, write_id, uploaded=True)
        finally:
            remove_quietly(work)
            remove_quietly(snapshot)

    def _publish_search_index(self) -> None:
        """After an upload: bring the shared ANN index up to the new version (large galleries only)."""
        version = self._version
        if version is not None and version.db is not None:
            version.matcher = self._ann.publish(version.db, version.matcher, version.etag) or version.matcher

    def _sleep_backoff(self, attempt: int) -> None:
        # Full jitter: concurrent writers spread out instead of colliding again in lockstep.
        time.sleep(random.uniform(0, min(self._backoff_cap, self._backoff_base * 2**attempt)))

    def _remove_stale_temps(self) -> None:
        """Delete temp files a killed process left behind (old enough that no live writer still uses them)."""
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for path in self._cache.glob(".*.tmp"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue

    # Defined last: inside the class body the name ``list`` would shadow the builtin in annotations.
    def list(
        self, *, prefix: str | None = None, page_size: int = 100, page_token: str | None = None
    ) -> ListPage:
        """Identities in name order (code point order), without their faces; see ``face_count``."""
        prefix = validation.validate_prefix(prefix)
        page_size = validation.validate_page_size(page_size)
        after = decode_page_token(page_token, prefix)
        with self._lock:
            version = self._current()
            if version.db is None:
                return ListPage(identities=(), next_page_token=None)
            return version.db.list_page(prefix=prefix, page_size=page_size, after=after)
