"""The index worker through SQS events: the real application, moto S3 + SQS, real photos."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from frs.api.app import Application
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.gallery.file import sync
from frs.indexing.jobs import JobStore
from frs.indexing.report import report, status
from frs.indexing.submit import IndexRequest, submit
from frs.service import FaceService
from harness.index_queue import IndexQueue, drain, poll_once
from harness.postgres import shared_pg_server
from tests.indexing.conftest import Archive


def _app(settings: Settings) -> Application:
    return Application(FaceService(settings))


def _gallery_faces(settings: Settings, gallery: str) -> dict[str, set[str]]:
    """identity -> face ids, read back from the gallery itself."""
    store = FaceService(settings).gallery(gallery)
    out = {}
    for identity in store.list(page_size=1000).identities:
        out[identity.name] = {f.face_id for f in store.get(identity.name).faces}
    return out


def _photos(jobs: JobStore, job: str) -> dict[str, dict[str, Any]]:
    out = {}
    for number in sorted(jobs.done_batches(job)):
        document = jobs.result(job, number)
        assert document is not None
        for photo in document["photos"]:
            out[photo["key"]] = photo
    return out


def _check_report_matches_gallery(
    settings: Settings, archive: Archive, job: str, *, in_order: bool = True
) -> dict[str, Any]:
    """``in_order=False``: batches ran in any order, so which of two equal photos was first is open."""
    jobs = JobStore.from_settings(settings)
    answer = report(jobs, job)
    assert answer["state"] == "done" and answer["batches_pending"] == []
    photos = _photos(jobs, job)
    outcomes = {k: p["outcome"] for k, p in photos.items()}
    if in_order:
        assert outcomes == archive.expected
    assert outcomes.keys() == archive.expected.keys()
    assert answer["counts"] == {**dict.fromkeys(answer["counts"], 0), **Counter(archive.expected.values())}
    enrolled: dict[str, set[str]] = {}
    for photo in photos.values():
        if photo["outcome"] == "enrolled":
            enrolled.setdefault(photo["identity"], set()).add(photo["face_id"])
    # The gallery holds exactly the faces reported enrolled (the duplicate is one of them, not a new face).
    assert _gallery_faces(settings, "people") == enrolled
    return answer


@pytest.mark.parametrize("backend", ["s3", "pgvector"])
def test_a_prefix_is_indexed_through_sqs_and_the_report_matches_the_gallery(
    backend: str, index_settings: Settings, archive: Archive, queue: IndexQueue
) -> None:
    settings = index_settings
    if backend == "pgvector":
        settings = dataclasses.replace(settings, gallery_uri=shared_pg_server().create_database("frs_index"))
    job = submit(settings, IndexRequest(gallery="people", source=archive.uri, batch_size=4))
    assert job["photos"] == len(archive.expected)
    assert [s["reason"] for s in job["skipped"]] == ["not <prefix>/<identity>/<photo>"]
    assert status(JobStore.from_settings(settings), job["job"])["state"] == "running"
    drain(queue, _handler(settings), batch_size=2)
    answer = _check_report_matches_gallery(settings, archive, job["job"])
    # A corrupt photo is reported, and its batch did not fail: no batch was delivered twice.
    assert answer["batches_redelivered"] == 0 and answer["batches_failing"] == []
    failures = archive.client.get_object(Bucket=archive.bucket, Key=f"index-jobs/{job['job']}/failures.csv")
    text = failures["Body"].read().decode()
    assert "archive/B/corrupt.jpg,B,unreadable,invalid_image" in text
    assert "archive/README.txt" in text and answer["seconds"] > 0


def _handler(settings: Settings) -> Any:
    app = _app(settings)
    return lambda event: app(event, None)


class Killed(BaseException):
    """The worker process dies here: nothing after this line runs, nothing is caught."""


def test_a_worker_killed_mid_batch_and_redelivery_lose_and_duplicate_nothing(
    index_settings: Settings, archive: Archive, queue: IndexQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = submit(index_settings, IndexRequest(gallery="people", source=archive.uri, batch_size=5))
    handler = _handler(index_settings)
    uploads = {"n": 0}

    def die_on_the_second_upload(_: Path) -> None:
        uploads["n"] += 1
        if uploads["n"] == 2:
            raise Killed

    # 1. killed just before its gallery upload: the message is never deleted, so SQS delivers it again.
    monkeypatch.setattr(sync, "before_upload", die_on_the_second_upload)
    with pytest.raises(Killed):
        drain(queue, handler)
    monkeypatch.setattr(sync, "before_upload", None)
    # 2. killed after its gallery write landed, before the batch's result was recorded: the job store is
    #    unreachable for this worker, so the write is done and the message comes back.
    lost = dataclasses.replace(index_settings, index_jobs_uri="s3://frs-no-such-bucket-here/jobs")
    poll_once(queue.sqs, queue.url, queue.arn, _handler(lost))
    clear_gallery_cache()
    drain(queue, _handler(index_settings))
    answer = _check_report_matches_gallery(index_settings, archive, job["job"])
    assert answer["batches_redelivered"] == 1  # the killed batch: killed, then its result lost, then done


def test_a_message_whose_write_keeps_failing_reaches_the_dead_letter_queue(
    index_settings: Settings, archive: Archive, queue: IndexQueue
) -> None:
    # The gallery object is not an SQLite file: every write is refused (storage_misconfigured).
    archive.client.put_object(Bucket=archive.bucket, Key="galleries/broken.sqlite", Body=b"garbage")
    job = submit(index_settings, IndexRequest(gallery="broken", source=archive.uri, batch_size=100))
    received = drain(queue, _handler(index_settings))
    assert received == 3  # maxReceiveCount deliveries, then the redrive policy moved it
    (dead,) = queue.dead_letters()
    assert f'"job":"{job["job"]}"' in dead["Body"]
    answer = report(JobStore.from_settings(index_settings), job["job"])
    assert answer["state"] == "running" and answer["batches_failing"] == [0]
    (pending,) = answer["batches_pending"]
    assert pending["received"] == 3 and pending["last_error"]["code"] == "storage_misconfigured"


def test_a_body_that_is_no_index_batch_is_refused_until_it_is_dead_lettered(
    index_settings: Settings, queue: IndexQueue
) -> None:
    queue.sqs.send_message(QueueUrl=queue.url, MessageBody='{"hello": "world"}')
    assert drain(queue, _handler(index_settings)) == 3
    assert [m["Body"] for m in queue.dead_letters()] == ['{"hello": "world"}']


def test_concurrent_workers_on_one_sqlite_gallery_lose_no_face(
    index_settings: Settings, archive: Archive, queue: IndexQueue, tmp_path: Path
) -> None:
    job = submit(index_settings, IndexRequest(gallery="people", source=archive.uri, batch_size=2))
    # Three workers, each with its own cache (as separate Lambda containers): their writes race on If-Match.
    handlers = [
        _handler(dataclasses.replace(index_settings, cache_dir=tmp_path / f"worker{i}")) for i in range(3)
    ]
    errors: list[BaseException] = []

    def work(handler: Any) -> None:
        try:
            while poll_once(queue.sqs, queue.url, queue.arn, handler):
                pass
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(h,)) for h in handlers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    drain(queue, handlers[0])  # anything a lost race sent back
    _check_report_matches_gallery(index_settings, archive, job["job"], in_order=False)
