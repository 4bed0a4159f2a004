"""``frs index``: submit a prefix, follow it, status and report, against moto S3 + SQS and the real worker."""
# ruff: noqa: F811 - the indexing fixtures are imported, then requested by name

from __future__ import annotations

import json

import pytest

from frs.api.app import Application
from frs.cli.main import main
from frs.config import Settings
from frs.indexing.jobs import JobStore
from frs.indexing.submit import IndexRequest, submit
from frs.service import FaceService
from harness.index_queue import IndexQueue, drain
from tests.indexing.conftest import (  # noqa: F401 - fixtures
    Archive,
    _fresh_gallery_objects,
    archive,
    aws_env,
    index_settings,
    queue,
)


@pytest.fixture
def cli_env(index_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    assert index_settings.index_queue_url and index_settings.index_jobs_uri
    for name, value in {
        "FRS_PACK": "embedded",
        "FRS_THREADS": "2",
        "FRS_GALLERY_URI": index_settings.gallery_uri,
        "FRS_CACHE_DIR": str(index_settings.cache_dir),
        "FRS_INDEX_QUEUE_URL": index_settings.index_queue_url,
        "FRS_INDEX_JOBS_URI": index_settings.index_jobs_uri,
    }.items():
        monkeypatch.setenv(name, value)
    return index_settings


def test_index_prints_the_job_then_status_and_report_follow_the_worker(
    cli_env: Settings, archive: Archive, queue: IndexQueue, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", archive.uri, "--gallery", "people", "--no-follow", "--batch-size", "8"]) == 0
    captured = capsys.readouterr()
    submitted = json.loads(captured.out)
    job = submitted["job"]
    assert captured.err.startswith(
        f"job {job}: {len(archive.expected)} photos in 2 batches (1 objects skipped)"
    )
    assert (submitted["state"], submitted["photos_done"]) == ("running", 0)
    app = Application(FaceService(cli_env))
    drain(queue, lambda event: app(event, None))
    assert main(["index", "status", job]) == 0
    progress = json.loads(capsys.readouterr().out)
    assert (progress["state"], progress["photos_done"], progress["batches_done"]) == (
        "done",
        len(archive.expected),
        2,
    )
    assert main(["index", "report", job]) == 0
    final = json.loads(capsys.readouterr().out)
    assert final["counts"]["enrolled"] == list(archive.expected.values()).count("enrolled")
    assert final["failures"].endswith(f"{job}/failures.csv")


def test_index_refuses_bad_usage_and_unknown_jobs(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index"]) == 2
    assert main(["index", "status", "not-a-job"]) == 2
    assert main(["index", "report", "20261202T051500Z-1a2b3c4d"]) == 2
    assert "not_found" in capsys.readouterr().out


def test_index_resume_sends_the_batches_a_crashed_submission_left(
    cli_env: Settings, archive: Archive, queue: IndexQueue, capsys: pytest.CaptureFixture[str]
) -> None:
    class Crash(BaseException):
        pass

    def crash(sent: int, total: int) -> None:
        raise Crash

    request = IndexRequest(gallery="people", source=archive.uri, batch_size=1)
    with pytest.raises(Crash):
        submit(cli_env, request, on_sent=crash)  # died after its first 10 batches of 16
    assert queue.waiting() == 10
    jobs = JobStore.from_settings(cli_env)
    (job,) = {k.split("/", 1)[0] for k in jobs.store.keys("")}
    assert main(["index", "--resume", job, "--no-follow"]) == 0
    captured = capsys.readouterr()
    assert "resumed: sent 6 batches" in captured.err
    assert json.loads(captured.out)["state"] == "running"
    assert queue.waiting() == 16
    assert main(["index", "--resume", job, archive.uri]) == 2
    assert "bad_request" in capsys.readouterr().out
