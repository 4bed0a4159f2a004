"""Submitting an index job, and resuming a submission that died midway: moto S3 + SQS, the real worker."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from frs import aws
from frs.config import Settings
from frs.errors import FRSError
from frs.indexing.jobs import JobStore
from frs.indexing.report import status
from frs.indexing.submit import IndexRequest, resume, submit
from harness.index_queue import IndexQueue, drain
from tests.indexing.conftest import Archive
from tests.indexing.test_worker import _check_report_matches_gallery, _handler


class Crash(BaseException):
    """The submitting process dies here: nothing after this line runs, nothing is caught."""


def _queued_batches(queue: IndexQueue) -> list[int]:
    """The batch numbers of the messages on the queue; every message is made visible again afterwards."""
    messages: list[dict[str, Any]] = []
    while True:
        answer = queue.sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=0
        )
        if not answer.get("Messages"):
            break
        messages.extend(answer["Messages"])
    for message in messages:
        queue.sqs.change_message_visibility(
            QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [json.loads(m["Body"])["batch"] for m in messages]


@pytest.fixture
def crash_after_send(index_settings: Settings) -> Iterator[dict[str, int]]:
    """Kills the submission right after SQS accepted the ``at``-th SendMessageBatch, before its sending is
    recorded: the worst moment, as those batches are on the queue but the job does not know it."""
    sqs = aws.client("sqs", index_settings)
    state = {"at": 0, "calls": 0}

    def after_call(**_: Any) -> None:
        state["calls"] += 1
        if state["calls"] == state["at"]:
            raise Crash

    sqs.meta.events.register("after-call.sqs.SendMessageBatch", after_call)
    yield state
    sqs.meta.events.unregister("after-call.sqs.SendMessageBatch", after_call)


def _crash_after(groups: int) -> Any:
    def on_sent(sent: int, total: int) -> None:
        if sent >= 10 * groups:
            raise Crash

    return on_sent


def _keys_reported(jobs: JobStore, job: str) -> set[str]:
    keys: set[str] = set()
    for number in jobs.done_batches(job):
        document = jobs.result(job, number)
        assert document is not None
        keys.update(p["key"] for p in document["photos"])
    return keys


def _job_being_submitted(jobs: JobStore) -> str:
    (key,) = [k for k in jobs.store.keys("") if k.endswith("/job.json")]
    return key.split("/", 1)[0]


def test_a_resumed_submission_sends_only_the_batches_not_yet_sent(
    index_settings: Settings, archive: Archive, queue: IndexQueue
) -> None:
    jobs = JobStore.from_settings(index_settings)
    photos = len(archive.expected)
    assert photos == 16  # 16 batches of 1 photo: two SendMessageBatch groups, 10 then 6
    with pytest.raises(Crash):
        submit(
            index_settings,
            IndexRequest(gallery="people", source=archive.uri, batch_size=1),
            on_sent=_crash_after(1),
        )
    job = _job_being_submitted(jobs)
    assert status(jobs, job)["state"] == "submitting"
    assert sorted(_queued_batches(queue)) == list(range(10))
    # The prefix changes before the resume: the job keeps the photos it listed.
    archive.client.put_object(Bucket=archive.bucket, Key="archive/A/late.jpg", Body=b"arrived later")

    resumed = resume(index_settings, job)
    assert (resumed["resent"], resumed["state"]) == (6, "submitted")
    assert sorted(_queued_batches(queue)) == list(range(16))
    assert drain(queue, _handler(index_settings)) == 16  # each batch once
    answer = _check_report_matches_gallery(index_settings, archive, job)
    assert answer["photos"] == photos and "archive/A/late.jpg" not in _keys_reported(jobs, job)
    # Resuming a job whose submission finished sends nothing.
    assert resume(index_settings, job)["resent"] == 0
    assert queue.waiting() == 0


def test_batches_sent_but_not_recorded_are_sent_again_and_enrol_nothing_twice(
    index_settings: Settings, archive: Archive, queue: IndexQueue, crash_after_send: dict[str, int]
) -> None:
    jobs = JobStore.from_settings(index_settings)
    crash_after_send["at"] = 2  # the second group (batches 10-15) is on the queue, unrecorded
    with pytest.raises(Crash):
        submit(index_settings, IndexRequest(gallery="people", source=archive.uri, batch_size=1))
    job = _job_being_submitted(jobs)
    assert jobs.sent(job) == 10
    assert sorted(_queued_batches(queue)) == list(range(16))

    assert resume(index_settings, job)["resent"] == 6
    assert sorted(_queued_batches(queue)) == sorted([*range(16), *range(10, 16)])
    assert drain(queue, _handler(index_settings)) == 22
    # Each of batches 10-15 was enrolled twice over: the gallery holds every photo once, as reported.
    _check_report_matches_gallery(index_settings, archive, job)


def test_a_resume_leaves_out_the_batches_already_done(
    index_settings: Settings, archive: Archive, queue: IndexQueue, crash_after_send: dict[str, int]
) -> None:
    jobs = JobStore.from_settings(index_settings)
    crash_after_send["at"] = 2
    with pytest.raises(Crash):
        submit(index_settings, IndexRequest(gallery="people", source=archive.uri, batch_size=1))
    job = _job_being_submitted(jobs)
    drain(queue, _handler(index_settings))  # the workers went on: all 16 batches done, the job not submitted
    assert status(jobs, job)["state"] == "submitting"
    resumed = resume(index_settings, job)
    assert resumed["resent"] == 0 and queue.waiting() == 0
    assert status(jobs, job)["state"] == "done"
    _check_report_matches_gallery(index_settings, archive, job)


def test_resume_refuses_unknown_jobs_and_another_queue(
    index_settings: Settings, archive: Archive, queue: IndexQueue
) -> None:
    with pytest.raises(FRSError) as unknown:
        resume(index_settings, "20261202T051500Z-1a2b3c4d")
    assert unknown.value.code == "not_found"
    with pytest.raises(FRSError) as malformed:
        resume(index_settings, "../../etc")
    assert malformed.value.code == "bad_request"
    with pytest.raises(Crash):
        submit(
            index_settings,
            IndexRequest(gallery="people", source=archive.uri, batch_size=1),
            on_sent=_crash_after(1),
        )
    job = _job_being_submitted(JobStore.from_settings(index_settings))
    other = dataclasses.replace(index_settings, index_queue_url=queue.dlq_url)
    with pytest.raises(FRSError) as elsewhere:
        resume(other, job)
    assert elsewhere.value.code == "bad_request" and "was submitted to" in elsewhere.value.message
    assert queue.waiting() == 10


def test_an_oversized_batch_is_refused_before_anything_is_recorded(
    index_settings: Settings, archive: Archive, queue: IndexQueue
) -> None:
    long_key = "archive/A/" + "x" * 900 + ".jpg"
    for n in range(300):
        archive.client.put_object(Bucket=archive.bucket, Key=f"{long_key[:-4]}{n}.jpg", Body=b"x")
    with pytest.raises(FRSError) as refused:
        submit(index_settings, IndexRequest(gallery="people", source=archive.uri, batch_size=500))
    assert refused.value.code == "bad_request" and "--batch-size" in refused.value.message
    assert JobStore.from_settings(index_settings).store.keys("") == []
    assert queue.waiting() == 0
