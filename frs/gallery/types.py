"""The storage-neutral gallery interface every backend implements.

A backend stores embeddings, never photos. Embeddings arrive L2-normalised (float32, shape ``(dim,)``), so
cosine similarity is a dot product. Every method raises :class:`frs.errors.FRSError` with a documented code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

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


@dataclass(frozen=True)
class Identity:
    name: str
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    face_count: int
    faces: tuple[FaceRecord, ...] = field(default=())


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

    def list(
        self, *, prefix: str | None = None, page_size: int = 100, page_token: str | None = None
    ) -> ListPage:
        """Identities ordered by name, paginated with an opaque, stable token."""
        ...

    def delete_identity(self, name: str) -> int:
        """Delete an identity and all its faces; returns how many faces were removed."""
        ...

    def delete_face(self, face_id: str) -> FaceRecord:
        """Delete one face; the identity stays (possibly with zero faces)."""
        ...
