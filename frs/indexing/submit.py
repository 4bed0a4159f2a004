"""``frs index``: list the photos, record the job, send its batches to the index queue; resume a submission.

Before the first message is sent the job's plan (the photos of every batch, ``<job>/plan.json.gz``) and its
document (state ``submitting``) are written; the document is marked ``submitted`` after the last batch, so
``frs index status`` never counts a job done while batches are still to be sent. After every group of
batches the queue accepted, ``<job>/sent.json`` records how many are sent.

If the submission dies midway (the machine, the network, Ctrl-C), ``frs index --resume JOB`` sends the batches
of the stored plan from the recorded count on, leaving out those already done: the same batches with the same
numbers under the same job, whatever the prefix holds by then. A batch sent twice (sent, then the process died
before recording it) enrols nothing twice: the worker gives each face an id derived from (job, photo, sha256),
so the second delivery finds its faces already there and reports them enrolled again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from frs import aws
from frs.config import Settings, misconfigured
from frs.errors import FRSError
from frs.gallery.validation import validate_gallery_name
from frs.indexing.jobs import JobStore, check_job_id, new_job_id, now_iso
from frs.indexing.messages import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, Batch, chunks
from frs.indexing.photos import Listing, Photo, list_prefix, read_manifest

_SEND_BATCH = 10  # SQS SendMessageBatch takes at most 10 entries

#: Called with the job document once it is recorded.
OnJob = Callable[[dict[str, Any]], None]
#: Called after each group of batches the queue accepted: (batches sent so far, batches to send).
OnSent = Callable[[int, int], None]


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
    settings: Settings,
    request: IndexRequest,
    *,
    on_job: OnJob | None = None,
    on_sent: OnSent | None = None,
) -> dict[str, Any]:
    """Create the job and queue every batch; returns the job document. ``on_job`` sees it once recorded."""
    validate_gallery_name(request.gallery)
    if not 1 <= request.batch_size <= MAX_BATCH_SIZE:
        raise FRSError("bad_request", f"--batch-size must be from 1 to {MAX_BATCH_SIZE}")
    _queue_url(settings)
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
    for batch in batches:  # refuse an oversized batch before anything is recorded or sent
        try:
            batch.encode()
        except ValueError as exc:
            raise FRSError("bad_request", str(exc)) from None
    plan = jobs.write_plan(job_id, [[p.to_dict() for p in b.photos] for b in batches])
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
        "plan": plan,
    }
    jobs.write_job(job)
    if on_job is not None:
        on_job(job)
    _send_from(settings, jobs, job, batches, 0, set(), on_sent)
    return job


def resume(
    settings: Settings,
    job_id: str,
    *,
    on_job: OnJob | None = None,
    on_sent: OnSent | None = None,
) -> dict[str, Any]:
    """Send the batches of a job whose submission stopped midway; returns the job document.

    A job already ``submitted`` is returned as it is (nothing sent). ``job["resent"]`` says how many batches
    this call sent.
    """
    queue = _queue_url(settings)
    jobs = JobStore.from_settings(settings)
    job = jobs.job(check_job_id(job_id))
    if job.get("queue") not in (None, queue):
        raise FRSError(
            "bad_request",
            f"index job {job_id} was submitted to {job['queue']}, not FRS_INDEX_QUEUE_URL ({queue})",
        )
    if on_job is not None:
        on_job(job)
    if job["state"] == "submitted":
        job["resent"] = 0
        return job
    batches = _planned_batches(jobs, job)
    sent = jobs.sent(job_id)
    done = jobs.done_batches(job_id)
    job["resumed_at"] = now_iso()
    job["resent"] = _send_from(settings, jobs, job, batches, sent, done, on_sent)
    return job


def _queue_url(settings: Settings) -> str:
    if not settings.index_queue_url:
        raise misconfigured("FRS_INDEX_QUEUE_URL", "must be set to index photos", None)
    return settings.index_queue_url


def _planned_batches(jobs: JobStore, job: dict[str, Any]) -> list[Batch]:
    """The job's batches, rebuilt from its stored plan; checked against the batch sizes it recorded."""
    plan = jobs.plan(job["job"])
    sizes = job["batch_sizes"]
    try:
        batches = [
            Batch(
                job["job"],
                number,
                job["gallery"],
                tuple(Photo.from_dict(p) for p in photos),
                job.get("largest") is True,
                job.get("quality_filter"),
            )
            for number, photos in enumerate(plan)
        ]
    except (TypeError, ValueError) as exc:
        raise FRSError("bad_request", f"the plan of index job {job['job']} is malformed: {exc}") from None
    if [len(b.photos) for b in batches] != sizes:
        raise FRSError(
            "bad_request", f"the plan of index job {job['job']} does not match its {len(sizes)} batches"
        )
    return batches


def _send_from(
    settings: Settings,
    jobs: JobStore,
    job: dict[str, Any],
    batches: list[Batch],
    start: int,
    done: set[int],
    on_sent: OnSent | None,
) -> int:
    """Send ``batches[start:]`` except those ``done``, recording progress; mark the job submitted.

    Returns how many batches were sent.
    """
    todo = [b for b in batches[start:] if b.number not in done]
    sent = 0
    for first in range(0, len(todo), _SEND_BATCH):
        group = todo[first : first + _SEND_BATCH]
        send_batches(settings, group)
        sent += len(group)
        jobs.write_sent(job["job"], group[-1].number + 1)
        if on_sent is not None:
            on_sent(sent, len(todo))
    job.update(state="submitted", submitted_at=now_iso())
    jobs.write_job(job)
    return sent


def send_batches(settings: Settings, batches: list[Batch]) -> None:
    """Send up to 10 batches in one SendMessageBatch (the entries it refuses are tried again)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if len(batches) > _SEND_BATCH:
        raise ValueError(f"at most {_SEND_BATCH} batches per SendMessageBatch")
    sqs = aws.client("sqs", settings)
    entries = [{"Id": str(b.number), "MessageBody": b.encode()} for b in batches]
    for _ in range(5):
        try:
            answer = sqs.send_message_batch(QueueUrl=settings.index_queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            raise FRSError("storage_unavailable", f"cannot send to the index queue: {exc}") from exc
        failed = {f["Id"] for f in answer.get("Failed", [])}
        entries = [e for e in entries if e["Id"] in failed]
        if not entries:
            return
    raise FRSError("storage_unavailable", f"the index queue refused {len(entries)} batches")
