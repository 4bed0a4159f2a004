"""The storage-neutral gallery interface every backend implements.

A backend stores embeddings, never photos. Embeddings arrive L2-normalised (float32, shape ``(dim,)``), so
cosine similarity is a dot product. Every method raises :class:`frs.errors.FRSError` with a documented code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from frs.packs.info import PackInfo

Embedding = npt.NDArray[np.float32]


@dataclass(frozen=True)
class NewFace:
    """One face to enrol: its embedding plus where it came from (no pixels).

    ``face_id``: the id the face gets if it is new (a UUID); None lets the gallery draw one. A caller that
    derives it from what it enrols (the indexing worker) recognises its own earlier write on a redelivery:
    the existing face then carries that very id.
    """

    embedding: Embedding
    det_score: float
    bbox: tuple[float, float, float, float]
    image_sha256: str
    #: Where the photo can be fetched again (an ``s3://bucket/key`` or an http(s) URL), for re-enrolment.
    source: str | None = None
    #: The face's overall quality score (0-1) when it was enrolled.
    quality: float | None = None
    face_id: str | None = None


@dataclass(frozen=True)
class FaceRecord:
    face_id: str
    identity: str
    pack: str
    dim: int
    det_score: float
    bbox: tuple[float, float, float, float]
    image_sha256: str
    created_at: str
    source: str | None = None
    quality: float | None = None


@dataclass(frozen=True)
class StoredFace:
    """One enrolled face with its embedding: what ``face``, ``iter_faces`` and imports carry."""

    record: FaceRecord
    embedding: Embedding


@dataclass(frozen=True)
class Identity:
    name: str
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    face_count: int
    faces: tuple[FaceRecord, ...] = field(default=())
    expires_at: str | None = None  # ISO 8601 UTC: from then on never matched, and purged by the schedule


@dataclass(frozen=True)
class AddResult:
    face_id: str
    identity: str
    face_count: int
    created: bool  # False when the same image bytes were already enrolled for this identity


@dataclass(frozen=True)
class Candidate:
    name: str
    similarity: float


@dataclass(frozen=True)
class ListPage:
    identities: tuple[Identity, ...]
    next_page_token: str | None


@dataclass(frozen=True)
class MergeResult:
    identity: Identity  # the merged identity, as it is after the merge (without its faces)
    faces_moved: int
    duplicates_dropped: int  # faces of a source whose photo (image_sha256) the target already had


@dataclass(frozen=True)
class MoveResult:
    face: FaceRecord  # as it is after the move
    previous_identity: str


@dataclass(frozen=True)
class ImportResult:
    identities_added: int
    faces_added: int
    faces_skipped: int  # already present (same face_id, or the same photo already enrolled for the identity)


MetadataMode = Literal["merge", "replace"]


class Keep(enum.Enum):
    """An optional change that was not asked for: the stored value stays (where None would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP
#: ``update_metadata``'s expiry change: an ISO 8601 UTC time sets it, None clears it, KEEP leaves it.
ExpiryChange = str | None | Keep

#: Records to import, identities (without faces) first, then faces; a callable so a retried write can read
#: them again from the start.
ImportRecords = Callable[[], Iterator["Identity | StoredFace"]]


class Gallery(Protocol):
    """One gallery. Writes are atomic: a failed write leaves the gallery exactly as it was."""

    name: str

    def pack(self) -> PackInfo | None:
        """The pack this gallery is bound to, or None while it is empty and unbound."""
        ...

    def add_face(
        self, identity: str, face: NewFace, *, pack: PackInfo, metadata: dict[str, Any] | None = None
    ) -> AddResult:
        """Enrol one face, creating the identity if needed; ``pack_mismatch`` for another pack."""
        ...

    def add_faces(
        self,
        items: list[tuple[str, NewFace, dict[str, Any] | None]],
        *,
        pack: PackInfo,
    ) -> list[AddResult]:
        """Enrol many faces in one write (one upload for object storage)."""
        ...

    def search(self, embeddings: Embedding, *, pack: PackInfo, top_k: int) -> list[list[Candidate]]:
        """Per row of ``embeddings`` (n, dim): top_k identities by max similarity over their faces."""
        ...

    def face_count(self) -> int:
        """Enrolled faces (0 while empty): the N of the open-set operating point. Cheap: answered from what
        the backend already holds (a file version's matrix, a cached count), at most as stale as a search."""
        ...

    def identity_similarity(self, name: str, embedding: Embedding, *, pack: PackInfo) -> float:
        """Max similarity of ``embedding`` to the faces of ``name``; ``not_found`` if unknown."""
        ...

    def get(self, name: str) -> Identity:
        """The identity with its faces; ``not_found`` if unknown."""
        ...

    def delete_identity(self, name: str) -> list[str]:
        """Delete an identity and all its faces; returns the removed faces' ids, in enrolment order (what
        the audit record of the delete lists)."""
        ...

    def delete_face(self, face_id: str) -> FaceRecord:
        """Delete one face; the identity stays (possibly with zero faces)."""
        ...

    # ----- identity edits (each one atomic write, re-decided on the latest version) ------------------------

    def face(self, face_id: str) -> StoredFace:
        """One face with its embedding; ``not_found`` if unknown."""
        ...

    def rename_identity(self, name: str, new_name: str) -> Identity:
        """Rename; ``not_found`` if ``name`` is unknown, ``identity_exists`` if ``new_name`` is taken."""
        ...

    def merge_identities(self, name: str, sources: list[str]) -> MergeResult:
        """Move every face of ``sources`` to ``name`` and delete the sources, in one write.

        Metadata: the target's keys win; each source, in the order given, adds the keys still missing.
        A source face whose photo the target already has is dropped (``duplicates_dropped``).
        """
        ...

    def move_face(self, face_id: str, name: str) -> MoveResult:
        """Move one face to another existing identity; ``duplicate_face`` if it already has that photo."""
        ...

    def update_metadata(self, name: str, metadata: dict[str, Any], mode: MetadataMode) -> Identity:
        """``replace``: store ``metadata``; ``merge``: its top-level keys replace the stored ones, a key set
        to null is removed. Galleries that keep retention (``supports_retention``: file and PostgreSQL) also
        take ``expires_at`` (:data:`ExpiryChange`) and then accept ``metadata=None`` to change the expiry
        alone."""
        ...

    # ----- bulk transfer -----------------------------------------------------------------------------------

    def snapshot(self) -> AbstractContextManager[None]:
        """Inside it, this thread's reads (``pack``, ``iter_identities``, ``iter_faces``) all see the gallery
        as of one moment, however it is written meanwhile (an export is one point in time)."""
        ...

    def iter_identities(self) -> Iterator[Identity]:
        """Every identity (without faces), in name order, streamed."""
        ...

    def iter_faces(self) -> Iterator[StoredFace]:
        """Every face with its embedding, in face_id order, streamed."""
        ...

    def existing_face_ids(self, face_ids: list[str]) -> set[str]:
        """Which of ``face_ids`` this gallery holds."""
        ...

    def bulk_load(self, faces: int) -> AbstractContextManager[None]:
        """Wraps the ``import_records`` writes of a load of about ``faces`` faces, so the backend can prepare
        and finish it once (PostgreSQL builds its index at the end); atomicity stays per write."""
        ...

    def import_records(
        self, records: ImportRecords, *, pack: PackInfo, replace: bool = False
    ) -> ImportResult:
        """Add identities and faces keeping their ids and times, in one atomic write; what exists is kept
        (idempotent). ``replace``: the gallery holds exactly the records afterwards. An error raised while
        reading ``records`` leaves the gallery as it was."""
        ...

    # Defined last: inside the class body the name ``list`` would shadow the builtin in annotations.
    def list(
        self, *, prefix: str | None = None, page_size: int = 100, page_token: str | None = None
    ) -> ListPage:
        """Identities ordered by name, paginated with an opaque, stable token."""
        ...
