"""``frs index``: list the photos, record the job, send its batches to the index queue.

The job document is written (state ``submitting``) before the first message is sent and marked
``submitted`` after the last, so ``frs index status`` never counts a job done while batches are still to be
sent. Sending is idempotent on the worker's side: a batch sent twice enrols nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from frs import aws
from frs.config import Settings, misconfigured
from frs.errors import FRSError
from frs.gallery.validation import validate_gallery_name
from frs.indexing.jobs import JobStore, new_job_id, now_iso
from frs.indexing.messages import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, Batch, chunks
from frs.indexing.photos import Listing, list_prefix, read_manifest

_SEND_BATCH = 10  # SQS SendMessageBatch takes at most 10 entries


@dataclass(frozen=True)
class IndexRequest:
    gallery: str
    source: str | None = None  # s3://bucket/prefix
    manifest: str | None = None  # s3://bucket/list.csv
    batch_size: int = DEFAULT_BATCH_SIZE
    largest: bool = False
    quality_filter: str | None = None


def _listing(request: IndexRequest, s3: Any) -> tuple[str, Listing]:
    if (request.source is None) == (request.manifest is None):
        raise FRSError("bad_request", "give either an s3://bucket/prefix or --manifest s3://.../list.csv")
    if request.manifest is not None:
        return request.manifest, read_manifest(s3, request.manifest)
    assert request.source is not None
    return request.source, list_prefix(s3, request.source)


def submit(
    settings: Settings, request: IndexRequest, *, on_job: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Create the job and queue every batch; returns the job document. ``on_job`` sees it once recorded."""
    validate_gallery_name(request.gallery)
    if not 1 <= request.batch_size <= MAX_BATCH_SIZE:
        raise FRSError("bad_request", f"--batch-size must be from 1 to {MAX_BATCH_SIZE}")
    if not settings.index_queue_url:
        raise misconfigured("FRS_INDEX_QUEUE_URL", "must be set to index photos", None)
    jobs = JobStore.from_settings(settings)
    source, listing = _listing(request, aws.client("s3", settings))
    if not listing.photos:
        raise FRSError(
            "not_found", f"no photos to index at {source} ({len(listing.skipped)} objects skipped)"
        )
    job_id = new_job_id()
    batches = [
        Batch(job_id, number, request.gallery, photos, request.largest, request.quality_filter)
        for number, photos in enumerate(chunks(listing.photos, request.batch_size))
    ]
    job: dict[str, Any] = {
        "job": job_id,
        "gallery": request.gallery,
        "source": source,
        "state": "submitting",
        "photos": len(listing.photos),
        "batch_sizes": [len(b.photos) for b in batches],
        "largest": request.largest,
        "quality_filter": request.quality_filter,
        "skipped": [s.to_dict() for s in listing.skipped],
        "created_at": now_iso(),
        "queue": settings.index_queue_url,
    }
    jobs.write_job(job)
    if on_job is not None:
        on_job(job)
    send_batches(settings, batches)
    job.update(state="submitted", submitted_at=now_iso())
    jobs.write_job(job)
    return job


def send_batches(settings: Settings, batches: list[Batch]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    sqs = aws.client("sqs", settings)
    for start in range(0, len(batches), _SEND_BATCH):
        group = batches[start : start + _SEND_BATCH]
        entries = [{"Id": str(b.number), "MessageBody": b.encode()} for b in group]
        for _ in range(5):
            try:
                answer = sqs.send_message_batch(QueueUrl=settings.index_queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise FRSError("storage_unavailable", f"cannot send to the index queue: {exc}") from exc
            failed = {f["Id"] for f in answer.get("Failed", [])}
            entries = [e for e in entries if e["Id"] in failed]
            if not entries:
                break
        else:
            raise FRSError("storage_unavailable", f"the index queue refused {len(entries)} batches")
