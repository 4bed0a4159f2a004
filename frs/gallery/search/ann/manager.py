"""Approximate nearest-neighbour (HNSW) search for large file-based galleries: when, where, why it is right.

**When.** A gallery version with at least ``FRS_ANN_MIN_FACES`` faces (default :data:`DEFAULT_MIN_FACES`)
is searched through an HNSW index (USearch, int8 vectors, see :mod:`frs.gallery.search.ann.index`); smaller
ones keep the exact matcher. Measured on 2 cores (``scripts/bench_ann.py``), at recall@5 >= 0.99 the index is
slower than exact search at 100k faces (128-d 4.4 vs 2.8 ms, 512-d 7.4 vs 9.4 ms) while it costs every write
an index update and upload; at 1M faces it is 2-3x (128-d) to 3x (512-d) faster.

**Where.** The index of gallery ``<name>`` is the object ``<name>.ann`` in the same transport (directory or
S3 prefix) as ``<name>.sqlite``. Its header carries a *tag*: the ``write_id`` of the gallery version it
describes (the ETag when a version has no write id). An index whose tag is not the version being searched
is never searched as it is.

**Writers.** After a writer's gallery upload succeeded, it brings the index up to its new version and uploads
it (compare-and-swap on the index's own ETag; losing that race is fine, see readers). Faces are keyed by
their UUID (:mod:`frs.gallery.search.ann.keys`) and never change, so an index of any older version is
*patched*: remove the faces that are gone, insert the new ones (milliseconds per face). The graph is rebuilt
from scratch only when there is no index yet, or when the patch (or the removals since the last build)
exceeds :data:`REBUILD_FRACTION` of the gallery. Index work never fails a write: errors are logged, and
readers cope.

**Readers.** A reader that installs a new large version fetches ``<name>.ann`` (a conditional GET: nothing is
transferred if it already has it). If the tag matches, the file is memory-mapped and searched in place.
If it is stale (the writer has not uploaded yet, lost the race, or crashed) the reader patches a private
in-memory copy itself when that means at most :data:`READER_MAX_ADDS` insertions; otherwise, or when there
is no index at all, it searches exactly and looks again after ``sync_ttl``. Readers never upload and
never build from scratch (minutes for a million faces), so a reader request never pays for a full build.

**Correctness first.** Whatever the index holds, results come from the version being searched: the index
only proposes faces; keys unknown to the version are dropped, and every returned identity is re-scored
exactly from the version's float32 matrix (:mod:`frs.gallery.search.ann.matcher`). A stale or damaged index
can cost recall, never return a deleted face or a wrong similarity. Any failure of the index path (download,
damaged file, library error) falls back to exact search.

**Cold start.** A new process downloads ``<name>.sqlite`` and ``<name>.ann`` and maps the index (no
parsing, pages load on demand); a downloaded index stays in the local cache as ``remote-<etag>.ann`` so a
later process sharing the cache revalidates it instead of downloading it again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from frs.config import Settings
from frs.gallery.file.diskio import disk_errors, publish, remove_quietly, temp_path
from frs.gallery.file.transports.protocol import PreconditionFailed, Transport
from frs.gallery.search.ann.keys import KeyLookup, aligned_keys
from frs.gallery.search.ann.matcher import AnnMatcher
from frs.gallery.search.exact import Matcher
from frs.gallery.search.matrix import MatrixData

if TYPE_CHECKING:  # usearch (behind the index module) loads only once a gallery is large enough to need it
    from frs.gallery.search.ann.index import LoadedIndex

logger = logging.getLogger(__name__)

DEFAULT_MIN_FACES: int = Settings.ann_min_faces  # FRS_ANN_MIN_FACES's default
ANN_SUFFIX = ".ann"
READER_MAX_ADDS = 2_000  # ~1-3 s of insertions at 512-d: more than that, a reader searches exactly instead
REBUILD_FRACTION = 0.25  # writers rebuild the graph once this share of it was patched away
_REMOTE_PREFIX = "remote-"


class GalleryVersion(Protocol):
    """What the index side needs from one gallery version (the SQLite store's ``GalleryDB`` provides it)."""

    def write_id(self) -> str | None: ...

    def face_count(self) -> int: ...

    def load_matrix(self) -> MatrixData: ...

    def row_face_ids(self) -> tuple[list[str], list[int]]: ...


def version_tag(db: GalleryVersion, etag: str | None) -> str:
    """What an index must be tagged with to describe this gallery version."""
    return db.write_id() or f"etag:{etag}"


def _data_of(matcher: Matcher) -> MatrixData:
    return MatrixData(embeddings=matcher.embeddings, starts=matcher.starts, names=matcher.names)


class AnnIndexManager:
    """The index side of one :class:`~frs.gallery.file.sync.SyncedGallery` (callers hold its lock)."""

    def __init__(
        self,
        name: str,
        transport: Transport,
        cache_dir: Path,
        *,
        recheck_seconds: float,
        clock: Callable[[], float],
        min_faces: int = DEFAULT_MIN_FACES,
    ) -> None:
        self.min_faces = max(1, min_faces)  # FRS_ANN_MIN_FACES=0 means "always": from the first face
        self.key = name + ANN_SUFFIX
        self._transport = transport
        self._dir = cache_dir
        self._recheck = recheck_seconds
        self._clock = clock
        self._remote_etag: str | None = None  # the .ann object's ETag as last seen; None: missing or unknown
        self._local: LoadedIndex | None = None  # the newest index this process holds (of any version)
        self._checked_at = float("-inf")
        # Per gallery version (its open database): the key lookup, built once (a full scan of the faces).
        self._lookup: tuple[GalleryVersion, KeyLookup | None] | None = None
        # (index file, version tag) a reader found too far behind to patch: skipped until either changes.
        self._rejected: tuple[Path, str] | None = None

    # ----- the two entry points ----------------------------------------------------------------------------

    def matcher(self, db: GalleryVersion, current: Matcher | None, etag: str | None) -> Matcher:
        """The matcher to search this version with: ``current`` while it is still the right one."""
        if isinstance(current, AnnMatcher):
            return current
        if current is not None and (
            current.face_count < self.min_faces or self._clock() - self._checked_at < self._recheck
        ):
            return current
        data = _data_of(current) if current is not None else db.load_matrix()
        if data.embeddings.shape[0] < self.min_faces:
            return current or Matcher(data)
        self._checked_at = self._clock()
        ann = self._guarded(lambda: self._ann_matcher(db, data, version_tag(db, etag), writer=False))
        return ann or current or Matcher(data)

    def publish(self, db: GalleryVersion, current: Matcher | None, etag: str | None) -> AnnMatcher | None:
        """Writer: bring the shared index up to the version just uploaded; its matcher, or None (exact).

        Never raises: the gallery upload already succeeded, and a missing index only means exact search.
        """

        def update() -> AnnMatcher | None:
            if db.face_count() < self.min_faces:
                return None
            data = _data_of(current) if current is not None else db.load_matrix()
            return self._ann_matcher(db, data, version_tag(db, etag), writer=True)

        return self._guarded(update)

    # ----- internals ---------------------------------------------------------------------------------------

    def _guarded(self, action: Callable[[], AnnMatcher | None]) -> AnnMatcher | None:
        """Run the index path; any failure of it means exact search, never a failed request."""
        try:
            return action()
        except Exception as exc:  # the exact path is always a correct answer
            logger.warning("search index for %s unavailable, searching exactly: %s", self.key, exc)
            return None

    def _ann_matcher(
        self, db: GalleryVersion, data: MatrixData, tag: str, *, writer: bool
    ) -> AnnMatcher | None:
        lookup = self._lookup_for(db, data)
        if lookup is None:
            return None
        loaded = self._index_for(tag, data, lookup, writer=writer)
        if loaded is None:
            return None
        return AnnMatcher(data, loaded.index, lookup, tag=tag, keepalive=loaded.keepalive)

    def _lookup_for(self, db: GalleryVersion, data: MatrixData) -> KeyLookup | None:
        if self._lookup is None or self._lookup[0] is not db:
            keys = aligned_keys(data, *db.row_face_ids())
            lookup = KeyLookup(keys) if keys is not None else None
            self._lookup = (db, lookup if lookup is not None and lookup.unique else None)
        return self._lookup[1]

    def _index_for(
        self, tag: str, data: MatrixData, lookup: KeyLookup, *, writer: bool
    ) -> LoadedIndex | None:
        from frs.gallery.search.ann import index as ann_index

        dim = int(data.embeddings.shape[1])
        if self._local is None or self._local.header.tag != tag:
            self._download(dim)
        base = self._local if self._local is not None and self._local.header.dim == dim else None
        if base is not None and base.header.tag == tag:
            return base
        if not writer and base is not None and self._rejected == (base.path, tag):
            return None  # already found too far behind for this version
        index, removed_since_build = None, 0
        if base is not None:
            removed, added = ann_index.diff(base.index, lookup)
            removed_since_build = base.header.removed_since_build + int(removed.size)
            limit = REBUILD_FRACTION * lookup.keys.size
            # Writers keep the graph healthy; readers only avoid long insert runs on their request path.
            patchable = (
                added.size <= limit and removed_since_build <= limit
                if writer
                else added.size <= READER_MAX_ADDS
            )
            if patchable:
                index = ann_index.load_mutable(base)
                ann_index.patch(index, data.embeddings, lookup, removed, added)
        if index is None:
            if not writer:
                if base is not None:
                    self._rejected = (base.path, tag)
                return None
            index, removed_since_build = ann_index.build(data.embeddings, lookup.keys), 0
        header = ann_index.IndexHeader(
            tag=tag, dim=dim, count=len(index), removed_since_build=removed_since_build
        )
        path = self._dir / f"ann-{uuid.uuid4().hex}{ANN_SUFFIX}"
        ann_index.write_file(path, header, index)
        self._replace_local(ann_index.LoadedIndex(header=header, index=index, path=path))
        if writer:
            self._upload(path)
        return self._local

    def _download(self, dim: int) -> None:
        """Fetch ``<name>.ann`` unless we hold its current ETag; install it as the local index if usable."""
        from frs.gallery.search.ann import index as ann_index

        if self._remote_etag is None and self._local is None:
            self._adopt_copy_left_on_disk(dim)
        with disk_errors(f"caching {self._transport.describe(self.key)}"):
            download = temp_path(self._dir, "anndownload")
        try:
            result = self._transport.fetch(self.key, download, self._remote_etag)
            if result.status == "missing":
                self._remote_etag = None
            elif result.status == "downloaded":
                assert result.etag is not None
                self._remote_etag = result.etag  # even if unusable: do not download the same bad file again
                loaded = ann_index.open_file(download, dim)  # opened before the move, like gallery copies
                if loaded is None:
                    logger.warning("ignoring %s: not a usable index", self._transport.describe(self.key))
                    return
                final = self._dir / f"{_REMOTE_PREFIX}{result.etag.encode('utf-8').hex()[:180]}{ANN_SUFFIX}"
                with disk_errors(f"caching {self._transport.describe(self.key)}"):
                    publish(download, final)
                loaded.path = final
                self._replace_local(loaded)
        finally:
            remove_quietly(download)

    def _adopt_copy_left_on_disk(self, dim: int) -> None:
        """Start from the newest downloaded index a previous process left in the cache, if any."""
        from frs.gallery.search.ann import index as ann_index

        copies = sorted(self._dir.glob(f"{_REMOTE_PREFIX}*{ANN_SUFFIX}"), key=lambda p: p.stat().st_mtime)
        for path in reversed(copies):
            try:
                etag = bytes.fromhex(path.name[len(_REMOTE_PREFIX) : -len(ANN_SUFFIX)]).decode("utf-8")
            except ValueError:
                continue
            loaded = ann_index.open_file(path, dim)
            if loaded is not None:
                self._local, self._remote_etag = loaded, etag
                return

    def _upload(self, path: Path) -> None:
        try:
            self._remote_etag = self._transport.put(self.key, path, self._remote_etag)
        except PreconditionFailed:
            # Another writer uploaded an index meanwhile. Readers patch whichever one is there.
            logger.info("search index %s changed meanwhile; not overwriting it", self.key)

    def _replace_local(self, loaded: LoadedIndex) -> None:
        previous, self._local = self._local, loaded
        if previous is not None and previous.path != loaded.path:
            # Safe while a matcher still searches it: a mapped file outlives its name.
            remove_quietly(previous.path)
