"""Copy a gallery to another backend (directory, S3, PostgreSQL): resumable, verified, source only read.

1. The identities, in one ``import_records`` write (what the target has is kept).
2. The faces, streamed in face_id order in chunks (default 5,000): per chunk, ``existing_face_ids`` on the
   target and one ``import_records`` write of the faces it lacks. Each chunk is atomic, so a copy killed
   midway leaves whole chunks behind, and running it again skips them and continues.
3. Verification: counts and the content checksum (:mod:`frs.gallery.transfer.checksum`) of both sides must be
   equal, else ``transfer_mismatch`` (e.g. the source was written during the copy, or the target held other
   records: re-run, or copy into an empty target).

The writes run inside ``target.bulk_load`` (PostgreSQL builds the gallery's index once, at the end). The
source is only read (``pack``, ``iter_identities``, ``iter_faces``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from frs.errors import FRSError
from frs.gallery.transfer.checksum import Checksum, gallery_checksum
from frs.gallery.transfer.importer import refuse_other_pack
from frs.gallery.types import Gallery, Identity, ImportRecords, StoredFace

DEFAULT_CHUNK = 5000

#: Called with (faces streamed from the source so far, faces in the source).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CopyReport:
    identities_added: int
    faces_added: int
    faces_present: int  # already in the target (an earlier, interrupted run)
    chunks_written: int
    checksum: Checksum


def _chunks(faces: Iterator[StoredFace], size: int) -> Iterator[list[StoredFace]]:
    while chunk := list(itertools.islice(faces, size)):
        yield chunk


def _identities(source: Gallery) -> ImportRecords:
    def records() -> Iterator[Identity | StoredFace]:
        return source.iter_identities()

    return records


def _replay(faces: list[StoredFace]) -> ImportRecords:
    """The records of one chunk, readable again from the start (a file gallery re-applies a lost race)."""

    def records() -> Iterator[Identity | StoredFace]:
        return iter(faces)

    return records


def copy_gallery(
    source: Gallery, target: Gallery, *, chunk_size: int = DEFAULT_CHUNK, progress: Progress | None = None
) -> CopyReport:
    """Copy every identity and face of ``source`` into ``target`` keeping ids and times; see the module."""
    if chunk_size < 1:
        raise FRSError("bad_request", "the chunk size must be at least 1 face")
    pack = source.pack()
    identities_added = faces_added = present = chunks = 0
    if pack is not None:
        refuse_other_pack(target, pack, "the source")
        total = source.face_count()
        with target.bulk_load(total):
            identities_added = target.import_records(_identities(source), pack=pack).identities_added
            streamed = 0
            for chunk in _chunks(source.iter_faces(), chunk_size):
                have = target.existing_face_ids([f.record.face_id for f in chunk])
                missing = [f for f in chunk if f.record.face_id not in have]
                present += len(chunk) - len(missing)
                if missing:
                    result = target.import_records(_replay(missing), pack=pack)
                    faces_added += result.faces_added
                    chunks += 1
                streamed += len(chunk)
                if progress is not None:
                    progress(streamed, total)
    expected, found = gallery_checksum(source), gallery_checksum(target)
    if expected != found:
        raise FRSError(
            "transfer_mismatch",
            f"after the copy the source holds {expected.describe()}, the target {found.describe()}",
        )
    return CopyReport(
        identities_added=identities_added,
        faces_added=faces_added,
        faces_present=present,
        chunks_written=chunks,
        checksum=found,
    )
