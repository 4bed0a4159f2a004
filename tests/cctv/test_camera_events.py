"""The issue's cases end to end: S3 events through the Lambda application, against moto S3 + SNS + SQS, with
an SQS queue subscribed to the alert topic: the assertions are on the messages that actually arrive."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from frs.api.app import Application
from frs.cctv.processor import RetryBatch
from frs.config import Settings
from frs.service import FaceService
from harness.messaging import AlertQueue
from harness.s3_events import eventbridge_event, records_event
from tests.cctv.conftest import Camera

NOON = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_a_watchlisted_person_gives_exactly_one_alert(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    item = camera.put("cameras/gate/2024-05-01T12-00-00Z.jpg", "person_a_2.jpg")
    summary = app(records_event(item), None)

    assert summary["records"][0]["status"] == "ok"
    delivered = alert_queue.drain()
    assert len(delivered) == 1
    message, attributes = delivered[0].message, delivered[0].attributes
    assert attributes == {"type": "face.match", "camera": "gate", "gallery": "people", "identity": "A"}
    assert message["type"] == "face.match" and message["identity"] == "A"
    assert message["camera"] == "gate" and message["gallery"] == "people"
    assert message["source"] == {"bucket": camera.bucket, "key": item.key}
    assert message["captured_at"] == "2024-05-01T12:00:00.000Z"  # from the key, not the upload time
    assert message["similarity"] > 0.5 and len(message["bbox"]) == 4
    assert 0 <= message["quality"]["score"] <= 1 and message["quality"]["face_px"] > 100
    assert len(message["event_id"]) == 32
    assert message["result"] == f"s3://{camera.bucket}/results/gate/2024-05-01T12-00-00Z.jpg.json"


def _concurrently(settings: Settings, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event through its own Lambda instance (an application with its own clients and caches), all
    released at the same moment."""
    instances = [Application(FaceService(settings)) for _ in events]
    start = threading.Barrier(len(events))
    answers: list[dict[str, Any]] = []

    def invoke(instance: Application, event: dict[str, Any]) -> None:
        start.wait()
        answers.append(instance(event, None))

    threads = [threading.Thread(target=invoke, args=pair) for pair in zip(instances, events, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_the_same_person_again_within_the_cooldown_from_two_concurrent_invocations_gives_no_second_alert(
    cctv_settings: Settings, camera: Camera, alert_queue: AlertQueue
):
    first = camera.put("cameras/gate/20240501T120000Z.jpg", "person_a_2.jpg")
    Application(FaceService(cctv_settings))(records_event(first), None)
    assert len(alert_queue.drain()) == 1

    # Two Lambda instances (two applications, each with its own clients and caches) at the same moment.
    later = [camera.put(f"cameras/gate/20240501T12010{i}Z.jpg", "person_a_2.jpg") for i in range(2)]
    answers = _concurrently(cctv_settings, [records_event(e) for e in later])

    assert [a["records"][0]["alerts"] for a in answers] == [["suppressed"], ["suppressed"]]
    assert alert_queue.drain(wait_seconds=1) == []


def test_two_concurrent_first_sightings_give_one_alert(
    cctv_settings: Settings, camera: Camera, alert_queue: AlertQueue
):
    items = [camera.put(f"cameras/gate/20240501T12000{i}Z.jpg", "person_a_2.jpg") for i in range(3)]
    answers = _concurrently(cctv_settings, [records_event(e) for e in items])

    assert sorted(a["records"][0]["alerts"][0] for a in answers) == ["sent", "suppressed", "suppressed"]
    assert len(alert_queue.drain(wait_seconds=1)) == 1


def test_a_person_not_on_the_watchlist_gives_no_alert(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    item = camera.put("cameras/gate/b.jpg", "person_b_2.jpg")
    app(records_event(item), None)

    assert alert_queue.drain() == []
    (result,) = camera.results().values()
    (face,) = result["faces"]
    assert face["identity"] == "B" and face["watchlist"] is False and result["alerts"] == []


def test_only_json_true_puts_an_identity_on_the_watchlist(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    app(records_event(camera.put("cameras/gate/c.jpg", "impostor_2.jpg")), None)  # C: "watchlist": "true"
    assert alert_queue.drain() == []
    (result,) = camera.results().values()
    assert [(f["identity"], f["watchlist"]) for f in result["faces"]] == [("C", False)]


def test_an_unknown_face_alerts_only_on_a_camera_configured_for_it(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    quiet = camera.put("cameras/gate/stranger.jpg", "impostor_1.jpg")
    app(records_event(quiet), None)
    assert alert_queue.drain() == []

    watched = camera.put("cameras/lobby/stranger.jpg", "impostor_1.jpg")
    app(records_event(watched), None)
    (delivered,) = alert_queue.drain()
    assert delivered.attributes == {"type": "face.unknown", "camera": "lobby", "gallery": "people"}
    assert delivered.message["identity"] is None and delivered.message["type"] == "face.unknown"


def test_a_result_is_written_for_every_frame(app: Application, camera: Camera):
    items = [
        camera.put("site1/cameras/gate/one.jpg", "person_a_2.jpg"),
        camera.put("site1/cameras/gate/two.png", "newton.png"),
        camera.put("cameras/yard/nobody.jpg", (camera.testdata / "solvay_conference_1927.jpg").read_bytes()),
    ]
    summary = app(records_event(*items), None)

    assert [r["status"] for r in summary["records"]] == ["ok", "ok", "ok"]
    results = camera.results()
    assert sorted(results) == [
        "results/site1/gate/one.jpg.json",
        "results/site1/gate/two.png.json",
        "results/yard/nobody.jpg.json",
    ]
    one = results["results/site1/gate/one.jpg.json"]
    assert one["type"] == "frame" and one["camera"] == "gate" and one["gallery"] == "people"
    assert one["source"]["key"] == "site1/cameras/gate/one.jpg"
    assert [f["identity"] for f in one["faces"]] == ["A"]
    assert set(one["faces"][0]) >= {"bbox", "det_score", "quality", "identity", "similarity", "reason"}
    assert one["capture_time_source"] == "event"
    # Many faces, every one reported (the 1927 Solvay photo: ~29 people, smaller than 40 px ones dropped).
    crowd = results["results/yard/nobody.jpg.json"]
    assert len(crowd["faces"]) + crowd["faces_too_small"] >= 25
    assert all(f["identity"] is None and f["reason"] == "below_threshold" for f in crowd["faces"])
    # Photos are never copied: the only objects are the uploads, the results and the alert state.
    listing = camera.client.list_objects_v2(Bucket=camera.bucket)["Contents"]
    assert {o["Key"].split("/")[0] for o in listing} == {"site1", "cameras", "results", "alert-state"}


def test_capture_time_from_metadata_wins_over_the_key(app: Application, camera: Camera):
    item = camera.put(
        "cameras/gate/20240501T120000Z.jpg",
        "person_b_2.jpg",
        metadata={"capture-time": "2024-05-01T11:59:58.5Z"},
    )
    app(records_event(item), None)
    (result,) = camera.results().values()
    assert (result["captured_at"], result["capture_time_source"]) == ("2024-05-01T11:59:58.500Z", "metadata")


def test_a_retried_event_duplicates_neither_results_nor_alerts(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    item = camera.put("cameras/gate/retry.jpg", "person_a_2.jpg")
    event = records_event(item)
    app(event, None)
    key = "results/gate/retry.jpg.json"
    before = camera.head(key)

    again = app(event, None)  # Lambda's retry delivers the very same event
    assert again["records"][0]["alerts"] == ["sent"] and again["records"][0]["published"] == 0
    assert len(alert_queue.drain(wait_seconds=1)) == 1
    assert list(camera.results()) == [key]
    after = camera.head(key)
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"])  # not rewritten


def test_a_batch_with_a_corrupt_object_processes_the_others(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    good = camera.put("cameras/gate/good.jpg", "person_a_2.jpg")
    corrupt = camera.put("cameras/gate/corrupt.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    wrong = camera.put("uploads/elsewhere.jpg", "person_b_2.jpg")
    missing = camera.put("cameras/gate/gone.jpg", "person_b_2.jpg")
    camera.client.delete_object(Bucket=camera.bucket, Key=missing.key)
    also_good = camera.put("cameras/lobby/b.jpg", "person_b_2.jpg")

    summary = app(records_event(good, corrupt, wrong, missing, also_good), None)

    statuses = [(r["key"], r["status"], r.get("error", {}).get("code")) for r in summary["records"]]
    assert statuses == [
        ("cameras/gate/good.jpg", "ok", None),
        ("cameras/gate/corrupt.jpg", "error", "invalid_image"),
        ("uploads/elsewhere.jpg", "error", "unsupported_key"),
        ("cameras/gate/gone.jpg", "error", "not_found"),
        ("cameras/lobby/b.jpg", "ok", None),
    ]
    results = camera.results()
    assert results["results/gate/corrupt.jpg.json"]["error"]["code"] == "invalid_image"
    assert results["results/gate/gone.jpg.json"]["error"]["code"] == "not_found"
    assert results["results/lobby/b.jpg.json"]["faces"][0]["identity"] == "B"
    assert len(results) == 4  # no result for a key outside cameras/
    assert [d.message["identity"] for d in alert_queue.drain()] == ["A"]


def test_an_eventbridge_event_is_processed_like_a_notification(
    app: Application, camera: Camera, alert_queue: AlertQueue
):
    item = camera.put("cameras/backdoor/frame 1+1.jpg", "person_a_2.jpg")  # EventBridge does not encode keys
    summary = app(eventbridge_event(item, at=NOON), None)

    assert summary["records"][0]["status"] == "ok"
    (delivered,) = alert_queue.drain()
    assert delivered.message["camera"] == "backdoor"
    assert delivered.message["captured_at"] == "2024-05-01T12:00:00.000Z"  # no time in the key: the event's
    assert list(camera.results()) == ["results/backdoor/frame 1+1.jpg.json"]


def test_records_keys_are_url_decoded(app: Application, camera: Camera):
    item = camera.put("cameras/gate/frame one+two.jpg", "person_b_2.jpg")
    summary = app(records_event(item), None)
    assert summary["records"][0]["key"] == "cameras/gate/frame one+two.jpg"
    assert list(camera.results()) == ["results/gate/frame one+two.jpg.json"]


def test_a_disabled_camera_is_skipped(app: Application, camera: Camera):
    summary = app(records_event(camera.put("cameras/closed/a.jpg", "person_a_2.jpg")), None)
    assert summary["records"][0]["status"] == "skipped"
    assert camera.results() == {}


def test_an_alert_that_cannot_be_published_fails_the_invocation_and_its_retry_delivers_it(
    cctv_settings: Settings, camera: Camera, alert_queue: AlertQueue
):
    missing_topic = alert_queue.topic_arn + "-missing"
    broken = Application(FaceService(dataclasses.replace(cctv_settings, alert_topic_arn=missing_topic)))
    item = camera.put("cameras/gate/unlucky.jpg", "person_a_2.jpg")
    event = records_event(item)

    with pytest.raises(RetryBatch) as raised:
        broken(event, None)
    (record,) = raised.value.summary["records"]
    assert record["status"] == "retry" and record["error"]["code"] == "alert_unavailable"
    assert camera.results()["results/gate/unlucky.jpg.json"]["alerts"][0]["status"] == "failed"
    assert alert_queue.drain() == []

    # A frame of the same person meanwhile does not take the undelivered alert's place silently: it delivers.
    # Here the retry (same event) comes first and delivers; then another frame is in its cooldown.
    fixed = Application(FaceService(cctv_settings))
    assert fixed(event, None)["records"][0]["alerts"] == ["sent"]
    assert len(alert_queue.drain()) == 1
    later = camera.put("cameras/gate/later.jpg", "person_a_2.jpg")
    assert fixed(records_event(later), None)["records"][0]["alerts"] == ["suppressed"]
    assert camera.results()["results/gate/unlucky.jpg.json"]["alerts"][0]["status"] == "sent"
