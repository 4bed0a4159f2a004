"""A content checksum of a gallery, computed the same way on every backend.

Each identity and face is encoded as its export line (:mod:`frs.gallery.transfer.format`: names, metadata,
times, face ids, embedding bytes, photo hash, box, scores, source) and hashed with SHA-256; the checksum is
the sum of those hashes modulo 2**256, so it does not depend on the order a backend streams records in. Two
galleries with the same checksum and counts hold the same records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from frs.gallery.transfer import format as fmt
from frs.gallery.types import Gallery

_MODULUS = 1 << 256


@dataclass(frozen=True)
class Checksum:
    identities: int
    faces: int
    digest: str  # 64 hex digits

    def describe(self) -> str:
        return f"{self.identities} identities, {self.faces} faces, checksum {self.digest[:16]}"


def _add(total: int, line: bytes) -> int:
    return (total + int.from_bytes(hashlib.sha256(line).digest(), "big")) % _MODULUS


def gallery_checksum(gallery: Gallery, *, progress: Callable[[int], None] | None = None) -> Checksum:
    """Stream every identity and face of ``gallery`` once (one record in memory)."""
    total = identities = faces = 0
    for identity in gallery.iter_identities():
        total = _add(total, fmt.identity_line(identity))
        identities += 1
    for face in gallery.iter_faces():
        total = _add(total, fmt.face_line(face))
        faces += 1
        if progress is not None and faces % 1000 == 0:
            progress(faces)
    return Checksum(identities=identities, faces=faces, digest=f"{total:064x}")
