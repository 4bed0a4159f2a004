"""The index worker: an SQS event (from the queue's event source mapping) of index batches.

Per message, a batch of photos of one job:

1. read and analyse every photo (the same refusals as ``add``: no_face, multiple_faces, low_quality, an
   unreadable or too large photo): a photo's own problem is its outcome, never the batch's failure;
2. enrol the accepted faces in **one** gallery write (``add_faces``: one upload of a SQLite gallery, one
   transaction in PostgreSQL);
3. write the batch's result document (one outcome per photo) under the job.

Only a message whose batch could not be written (gallery, S3 or the job store unavailable or misconfigured,
a lost race given up on) is returned in ``batchItemFailures``: SQS delivers just that one again, and after the
queue's ``maxReceiveCount`` deliveries moves it to the dead-letter queue. The reason is logged and kept in
``<job>/errors/<batch>.json``. A body that is no index batch at all fails the same way (it can never succeed).

Redelivery is idempotent. Each face is enrolled with a face id derived from (job, photo, image sha256): a
redelivered batch whose write had landed finds its faces already there *with the ids it would give them*, so
they are reported enrolled again (not duplicate) and nothing is added twice. A face already there with another
id was enrolled before, by someone else: duplicate (same image sha256 for the identity, as ``add`` decides).
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from frs import aws
from frs.errors import FRSError
from frs.gallery.types import NewFace
from frs.gallery.validation import validate_identity_name
from frs.indexing import outcomes
from frs.indexing.jobs import JobStore, now_iso
from frs.indexing.messages import BadMessage, Batch, decode
from frs.indexing.photos import Photo, read_photo
from frs.service import FaceService

logger = Logger(service="frs")

#: Analyses one photo's bytes into the face to enrol, or raises the FRSError ``add`` would refuse it with.
Prepare = Callable[[bytes, Batch], NewFace]

_FACE_IDS = uuid.UUID("6f1d7a52-3c1e-4c55-9a51-7f0b1e8f2c11")


def is_sqs_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def face_id_for(job: str, photo: Photo, image_sha256: str) -> str:
    """The id this job gives the face of ``photo``: the same on every delivery of its batch."""
    return str(uuid.uuid5(_FACE_IDS, f"{job}\0{photo.bucket}\0{photo.key}\0{image_sha256}"))


class IndexWorker:
    """Handles SQS events of index batches for one :class:`FaceService` (one per process)."""

    def __init__(self, service: FaceService, *, prepare: Prepare | None = None) -> None:
        self.service = service
        self.settings = service.settings
        self._prepare = prepare or self._analyse
        self._jobs: JobStore | None = None

    def _analyse(self, image: bytes, batch: Batch) -> NewFace:
        return self.service.enrolment_face(image, largest=batch.largest, quality_filter=batch.quality_filter)

    @property
    def jobs(self) -> JobStore:
        if self._jobs is None:
            self._jobs = JobStore.from_settings(self.settings)
        return self._jobs

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """``{"batchItemFailures": [{"itemIdentifier": messageId}]}``: the messages to deliver again."""
        failures: list[dict[str, str]] = []
        for record in event["Records"]:
            message_id = str(record.get("messageId", ""))
            received = _receive_count(record)
            try:
                batch = decode(record.get("body", ""))
            except BadMessage as exc:
                logger.error("index message refused", extra={"message_id": message_id, "reason": str(exc)})
                failures.append({"itemIdentifier": message_id})
                continue
            try:
                summary = self.process(batch, received=received)
            except FRSError as exc:
                self._record_failure(batch, received, exc)
                failures.append({"itemIdentifier": message_id})
                continue
            except Exception:  # a bug: this message fails (and is retried), the others go on
                logger.exception("index batch crashed", extra={"job": batch.job, "batch": batch.number})
                self._record_failure(
                    batch, received, FRSError("internal_error", "internal error; see the function's logs")
                )
                failures.append({"itemIdentifier": message_id})
                continue
            logger.info("index batch", extra={"message_id": message_id, **summary})
        return {"batchItemFailures": failures}

    def _record_failure(self, batch: Batch, received: int, exc: FRSError) -> None:
        reason = {"code": exc.code, "message": exc.message}
        logger.warning(
            "index batch failed",
            extra={"job": batch.job, "batch": batch.number, "received": received, "error": reason},
        )
        try:
            self.jobs.write_error(
                batch.job,
                batch.number,
                {
                    "job": batch.job,
                    "batch": batch.number,
                    "received": received,
                    "at": now_iso(),
                    "error": reason,
                },
            )
        except FRSError as unrecorded:  # the job store itself is down: the log line is the record
            logger.warning("index failure not recorded", extra={"error": unrecorded.code})

    def process(self, batch: Batch, *, received: int = 1) -> dict[str, Any]:
        """Enrol one batch (one gallery write) and record its outcomes; FRSError if it must be retried."""
        started = time.perf_counter()
        started_at = now_iso()
        jobs = self.jobs  # misconfigured before any work
        gallery = self.service.gallery(batch.gallery)
        pack = self.service.analyzer.pack
        s3 = aws.client("s3", self.settings)
        results: list[dict[str, Any]] = [{} for _ in batch.photos]
        accepted: list[tuple[int, str, NewFace, dict[str, Any] | None]] = []
        for index, photo in enumerate(batch.photos):
            entry: dict[str, Any] = {"identity": photo.identity, "bucket": photo.bucket, "key": photo.key}
            results[index] = entry
            try:
                validate_identity_name(photo.identity)
                image = read_photo(s3, photo, self.settings.input_bucket)
                face = self._prepare(image, batch)
            except FRSError as exc:
                outcome = outcomes.BY_ERROR_CODE.get(exc.code)
                if outcome is None:
                    raise  # infrastructure (S3 down, access denied): the batch is retried
                entry.update(outcome=outcome, reason=f"{exc.code}: {exc.message}")
                continue
            expected = face_id_for(batch.job, photo, face.image_sha256)
            accepted.append((index, expected, dataclasses.replace(face, face_id=expected), photo.metadata))
        written = 0.0
        if accepted:
            before = time.perf_counter()
            added = gallery.add_faces(
                [(batch.photos[i].identity, face, meta) for i, _, face, meta in accepted], pack=pack
            )
            written = time.perf_counter() - before
            for (index, expected, face, _), result in zip(accepted, added, strict=True):
                mine = result.created or result.face_id == expected
                results[index].update(
                    outcome=outcomes.ENROLLED if mine else outcomes.DUPLICATE,
                    face_id=result.face_id,
                    image_sha256=face.image_sha256,
                )
        counts = {name: 0 for name in outcomes.OUTCOMES}
        for entry in results:
            counts[entry["outcome"]] += 1
        document = {
            "job": batch.job,
            "batch": batch.number,
            "gallery": batch.gallery,
            "received": received,
            "started_at": started_at,
            "finished_at": now_iso(),
            "seconds": round(time.perf_counter() - started, 3),
            "write_seconds": round(written, 3),
            "counts": counts,
            "photos": results,
        }
        jobs.write_result(batch.job, batch.number, document)
        return {"job": batch.job, "batch": batch.number, "received": received, "counts": counts}


def _receive_count(record: dict[str, Any]) -> int:
    raw = record.get("attributes", {}).get("ApproximateReceiveCount") if isinstance(record, dict) else None
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1
