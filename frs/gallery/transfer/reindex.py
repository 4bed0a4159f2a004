"""Re-enrol a gallery on another pack from the photos its faces were enrolled from (their ``source``).

1. Checks before any write: the target is empty or already of the new pack (else ``pack_mismatch``).
2. Every identity of the source, with its metadata and expiry, in one ``import_records`` write (what the
   target has is kept).
3. Every face with a source: the photo is fetched (``s3://`` as ``{"s3": ...}`` image references are, an
   http(s) URL directly; both with the same size limit: :mod:`frs.gallery.transfer.fetch`), analysed with the
   new pack, and the detected face whose box overlaps the stored box most (IoU at least :data:`MIN_IOU`) is
   taken; it must pass the enrolment quality filter. The faces taken are enrolled in batches (one
   ``add_faces`` per batch) with their source, so a re-run adds nothing (the target skips a photo its identity
   already has, as ``add`` does).

Each face gets one outcome (:data:`OUTCOMES`); the report lists the faces not re-enrolled with the reason.
The source is only read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.transfer.fetch import SourceGoneError, SourceUnreadableError, fetch_source
from frs.gallery.transfer.importer import refuse_other_pack
from frs.gallery.types import FaceRecord, Gallery, Identity, NewFace, StoredFace
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer
from frs.pipeline.detectors.base import iou
from frs.pipeline.quality import FilterLevel

DEFAULT_BATCH = 100
#: The least overlap (intersection over union) between the stored box and a detected one to be the same face.
MIN_IOU = 0.3

REINDEXED = "reindexed"
NO_SOURCE = "no_source"
PHOTO_GONE = "photo_gone"
UNREADABLE = "unreadable"
NO_FACE = "no_face"
LOW_QUALITY = "low_quality"
OUTCOMES = (REINDEXED, NO_SOURCE, PHOTO_GONE, UNREADABLE, NO_FACE, LOW_QUALITY)

Box = tuple[float, float, float, float]
#: Called with (faces handled so far, faces in the source).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Refusal:
    """A face that was not re-enrolled."""

    face_id: str
    identity: str
    source: str | None
    outcome: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "face_id": self.face_id,
            "identity": self.identity,
            "source": self.source,
            "outcome": self.outcome,
            "reason": self.reason,
        }


@dataclass
class ReindexReport:
    pack: str
    identities_added: int = 0
    faces_added: int = 0  # new in the target (a re-run adds none: its faces were reindexed before)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    refused: list[Refusal] = field(default_factory=list)

    def refuse(self, record: FaceRecord, outcome: str, reason: str) -> None:
        self.counts[outcome] += 1
        self.refused.append(Refusal(record.face_id, record.identity, record.source, outcome, reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "identities_added": self.identities_added,
            "faces_added": self.faces_added,
            "counts": dict(self.counts),
            "not_reindexed": [r.to_dict() for r in self.refused],
        }


class _RefusedError(Exception):
    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


def _fetch(source: str, settings: Settings) -> bytes:
    try:
        return fetch_source(source, settings)
    except SourceGoneError as exc:
        raise _RefusedError(PHOTO_GONE, str(exc)) from exc
    except SourceUnreadableError as exc:
        raise _RefusedError(UNREADABLE, str(exc)) from exc


def _match(faces: list[AnalyzedFace], stored: Box) -> AnalyzedFace:
    if not faces:
        raise _RefusedError(NO_FACE, "the new pack finds no face in the photo")
    box = np.asarray(stored, dtype=np.float32)
    overlap, best = max(
        ((iou(np.asarray(f.bbox, dtype=np.float32), box), f) for f in faces), key=lambda pair: pair[0]
    )
    if overlap < MIN_IOU:
        raise _RefusedError(
            NO_FACE,
            f"none of the {len(faces)} faces the new pack finds overlaps the enrolled box "
            f"(best IoU {overlap:.2f} < {MIN_IOU})",
        )
    return best


def _new_face(stored: StoredFace, analyzer: FaceAnalyzer, level: FilterLevel, settings: Settings) -> NewFace:
    record = stored.record
    assert record.source is not None
    image = _fetch(record.source, settings)
    try:
        faces = analyzer.analyze(image).faces
    except FRSError as exc:  # invalid_image, image_too_large
        raise _RefusedError(UNREADABLE, f"{exc.code}: {exc.message}") from exc
    face = _match(faces, record.bbox)
    reasons = analyzer.quality_refusals(face, level)
    if reasons:
        raise _RefusedError(LOW_QUALITY, f"below the '{level}' quality filter: {', '.join(reasons)}")
    assert face.embedding is not None
    return NewFace(
        face.embedding,
        face.score,
        face.bbox,
        hashlib.sha256(image).hexdigest(),
        source=record.source,
        quality=float(face.quality.overall),
    )


def _identities(source: Gallery) -> Callable[[], Iterator[Identity | StoredFace]]:
    def records() -> Iterator[Identity | StoredFace]:
        yield from source.iter_identities()

    return records


def reindex_gallery(
    source: Gallery,
    target: Gallery,
    analyzer: FaceAnalyzer,
    *,
    level: FilterLevel,
    settings: Settings,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ReindexReport:
    """Re-enrol ``source`` into ``target`` with ``analyzer``'s pack; see the module. ``settings`` gives the
    S3 client and input bucket the photos are read with."""
    if batch_size < 1:
        raise FRSError("bad_request", "the batch size must be at least 1 face")
    if source is target:
        raise FRSError("bad_request", "the target must be another gallery than the source")
    pack = analyzer.pack
    refuse_other_pack(target, pack, "reindexing writes embeddings")
    report = ReindexReport(pack=pack.name)
    if source.pack() is None:  # never written: nothing to re-enrol
        return report
    report.identities_added = target.import_records(_identities(source), pack=pack).identities_added
    batch: list[tuple[str, NewFace, dict[str, Any] | None]] = []

    def flush() -> None:
        if batch:
            added = target.add_faces(batch, pack=pack)
            report.faces_added += sum(1 for result in added if result.created)
            report.counts[REINDEXED] += len(batch)
            batch.clear()

    total = source.face_count()
    for done, stored in enumerate(source.iter_faces(), start=1):
        record = stored.record
        if record.source is None:
            report.refuse(record, NO_SOURCE, "the face was enrolled without a source")
        else:
            try:
                batch.append((record.identity, _new_face(stored, analyzer, level, settings), None))
            except _RefusedError as refused:
                report.refuse(record, refused.outcome, refused.reason)
        if len(batch) >= batch_size:
            flush()
        if progress is not None:
            progress(done, total)
    flush()
    return report
