"""The cooldown claim: one alert per (camera, identity) per window, retries and failures included, across
concurrent writers (threads with their own S3 clients against moto, which evaluates conditions atomically)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from frs.cctv.alerts import Alert, AlertType, Sighting
from frs.cctv.cooldown import Cooldown, state_key
from frs.cctv.objects import LocalObjects, S3Objects
from frs.errors import FRSError
from harness.s3 import S3Endpoint

START = datetime(2024, 5, 1, 12, tzinfo=UTC)


class Recorder:
    """Stands in for SNS (an external service): keeps what was published, or fails while told to."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.failing = False
        self.lock = threading.Lock()

    def publish(self, alert: Alert) -> None:
        if self.failing:
            raise FRSError("alert_unavailable", "SNS is down")
        with self.lock:
            self.published.append(alert.event_id)


def alert(event: str, seconds: float = 0.0, identity: str | None = "A", camera: str = "gate") -> Alert:
    sighting = Sighting(
        "face", 0, identity, 0.7, None, [0, 0, 1, 1], None, START + timedelta(seconds=seconds)
    )
    kind: AlertType = "face.match" if identity else "face.unknown"
    return Alert(kind, event, camera, "people", sighting, {"bucket": "b", "key": "k"}, "s3://b/r.json")


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def cooldown(tmp_path: Path, clock: list[float]) -> Cooldown:
    return Cooldown(LocalObjects(tmp_path / "state"), 300, clock=lambda: clock[0])


def test_one_alert_per_window_then_a_new_window(cooldown: Cooldown):
    sink = Recorder()
    assert cooldown.deliver(alert("e1", 0), sink).status == "sent"
    assert cooldown.deliver(alert("e2", 120), sink).status == "suppressed"
    assert cooldown.deliver(alert("e3", 299.9), sink).status == "suppressed"
    assert cooldown.deliver(alert("e4", 300), sink).status == "sent"  # measured from the last alert
    assert cooldown.deliver(alert("e5", 500), sink).status == "suppressed"
    assert sink.published == ["e1", "e4"]


def test_windows_are_per_camera_and_per_identity(cooldown: Cooldown):
    sink = Recorder()
    for event in (alert("a", identity="A"), alert("b", identity="B"), alert("u", identity=None),
                  alert("c", camera="yard"), alert("a2", identity="A")):  # fmt: skip
        cooldown.deliver(event, sink)
    assert sink.published == ["a", "b", "u", "c"]
    assert state_key(alert("x", identity=None)) != state_key(alert("x", identity="unknown"))


def test_a_retried_event_is_not_published_twice(cooldown: Cooldown):
    sink = Recorder()
    first = cooldown.deliver(alert("e1"), sink)
    again = cooldown.deliver(alert("e1"), sink)
    assert (first.status, first.published_now) == ("sent", True)
    assert (again.status, again.published_now) == ("sent", False)
    assert sink.published == ["e1"]


def test_a_failed_publish_leaves_the_window_to_be_delivered_by_a_retry_or_the_next_sighting(
    cooldown: Cooldown,
):
    sink = Recorder()
    sink.failing = True
    failed = cooldown.deliver(alert("e1"), sink)
    assert failed.status == "failed" and failed.error is not None and failed.error.code == "alert_unavailable"
    sink.failing = False
    # The next sighting in the window delivers: the window's alert was never sent.
    assert cooldown.deliver(alert("e2", 10), sink).status == "sent"
    # The retry of the failed event then finds the window delivered.
    assert cooldown.deliver(alert("e1"), sink).status == "suppressed"
    assert sink.published == ["e2"]


def test_a_claim_whose_instance_died_is_taken_over_after_the_lease(cooldown: Cooldown, clock: list[float]):
    sink = Recorder()
    store = cooldown.store
    cooldown.deliver(alert("e1"), sink)
    # Simulate an instance that claimed the window and died before publishing: its state stays "pending".
    key = state_key(alert("e9"))
    stored = store.get(key)
    assert stored is not None
    pending = stored.data.replace(b'"status": "sent"', b'"status": "pending"').replace(b'"e1"', b'"e9"')
    store.put(key, pending, if_match=stored.etag)
    assert cooldown.deliver(alert("e2", 5), sink).status == "suppressed"  # in flight elsewhere
    clock[0] += 31
    assert cooldown.deliver(alert("e3", 6), sink).status == "sent"  # the dead claim is taken over
    assert sink.published == ["e1", "e3"]


def test_no_topic_records_the_alert_as_disabled_and_writes_no_state(cooldown: Cooldown, tmp_path: Path):
    assert cooldown.deliver(alert("e1"), None).status == "disabled"
    assert not (tmp_path / "state").exists()


def _s3_client(endpoint: S3Endpoint) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name="us-east-1",
    )


@pytest.mark.parametrize("writers", [2, 8])
def test_concurrent_instances_racing_for_one_window_publish_once(s3_endpoint: S3Endpoint, writers: int):
    bucket = s3_endpoint.create_bucket()
    sink = Recorder()
    instances = [
        Cooldown(S3Objects(bucket, "alert-state", _s3_client(s3_endpoint)), 300) for _ in range(writers)
    ]
    start = threading.Barrier(writers)
    statuses: list[str] = []

    def race(index: int) -> None:
        start.wait()
        statuses.append(instances[index].deliver(alert(f"e{index}", index), sink).status)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == ["sent"] + ["suppressed"] * (writers - 1)
    assert len(sink.published) == 1
