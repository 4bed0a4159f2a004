"""Progress and the final report of an index job, from its documents (:mod:`frs.indexing.jobs`).

``status`` lists the job's ``results/`` and ``errors/`` folders only (a few requests, even for a million
photos), so it can be polled. ``report`` reads every result document: counts per outcome, the photos not in
the gallery with their reasons (``failures.csv`` next to the job), the batches not done with their last
error, and the time taken (job creation to the last batch's result).
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from frs.indexing import outcomes
from frs.indexing.jobs import JobStore

_READERS = 16


def _seconds_between(start: str, end: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return round((parse(end) - parse(start)).total_seconds(), 3)


def status(jobs: JobStore, job_id: str) -> dict[str, Any]:
    job = jobs.job(job_id)
    sizes: list[int] = job["batch_sizes"]
    done = jobs.done_batches(job_id)
    failing = jobs.failing_batches(job_id) - done
    photos_done = sum(sizes[n] for n in done if n < len(sizes))
    complete = job["state"] == "submitted" and len(done) >= len(sizes)
    return {
        "job": job_id,
        "gallery": job["gallery"],
        "source": job["source"],
        "state": "done" if complete else ("submitting" if job["state"] != "submitted" else "running"),
        "photos": job["photos"],
        "photos_done": photos_done,
        "batches": len(sizes),
        "batches_done": len(done),
        "batches_failing": sorted(failing),
        "skipped": len(job.get("skipped", [])),
        "created_at": job["created_at"],
    }


def report(jobs: JobStore, job_id: str) -> dict[str, Any]:
    """The job's report; also written to ``<job>/report.json`` and ``<job>/failures.csv``."""
    current = status(jobs, job_id)
    job = jobs.job(job_id)
    numbers = sorted(jobs.done_batches(job_id))
    with ThreadPoolExecutor(_READERS) as pool:
        documents = [d for d in pool.map(lambda n: jobs.result(job_id, n), numbers) if d is not None]
    counts = {name: 0 for name in outcomes.OUTCOMES}
    failures: list[dict[str, Any]] = []
    redelivered = 0
    finished = None
    for document in documents:
        redelivered += int(document.get("received", 1) > 1)
        finished = max(finished or document["finished_at"], document["finished_at"])
        for photo in document["photos"]:
            counts[photo["outcome"]] += 1
            if photo["outcome"] not in outcomes.IN_GALLERY:
                failures.append(photo)
    pending = []
    for number in range(len(job["batch_sizes"])):
        if number not in set(numbers):
            error = jobs.error(job_id, number) if number in current["batches_failing"] else None
            pending.append(
                {
                    "batch": number,
                    "photos": job["batch_sizes"][number],
                    "last_error": error["error"] if error else None,
                    "received": error["received"] if error else 0,
                }
            )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["bucket", "key", "identity", "outcome", "reason"])
    for photo in failures:
        writer.writerow(
            [photo["bucket"], photo["key"], photo["identity"], photo["outcome"], photo.get("reason", "")]
        )
    for item in job.get("skipped", []):
        writer.writerow(["", item["where"], "", "skipped", item["reason"]])
    body = {
        **current,
        "counts": counts,
        "in_gallery": counts[outcomes.ENROLLED] + counts[outcomes.DUPLICATE],
        "failed_photos": len(failures),
        "batches_redelivered": redelivered,
        "batches_pending": pending,
        "finished_at": finished if current["state"] == "done" else None,
        "seconds": _seconds_between(job["created_at"], finished)
        if finished and current["state"] == "done"
        else None,
    }
    report_uri, failures_uri = jobs.write_report(job_id, body, text.getvalue())
    return {**body, "report": report_uri, "failures": failures_uri}
