"""S3 notifications and EventBridge events -> the objects they announce (or why a record names none)."""

from __future__ import annotations

from datetime import UTC, datetime

from frs.api.app import event_kind
from frs.cctv.events import CameraObject, RecordProblem, announced_objects, is_s3_event


def _record(key: str, name: str = "ObjectCreated:Put", **obj: object) -> dict[str, object]:
    return {
        "eventSource": "aws:s3",
        "eventName": name,
        "eventTime": "2024-05-01T12:00:00.250Z",
        "s3": {"bucket": {"name": "cams"}, "object": {"key": key, "size": 10, "eTag": "abc", **obj}},
    }


def test_records_are_decoded_in_order_with_their_versions():
    event = {
        "Records": [_record("cameras/gate/a+b%2Bc.jpg", versionId="v1"), _record("cameras/gate/%C3%A9.jpg")]
    }
    first, second = announced_objects(event)
    assert first == CameraObject(
        bucket="cams",
        key="cameras/gate/a b+c.jpg",
        size=10,
        version_id="v1",
        etag="abc",
        sequencer=None,
        event_time=datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC),
    )
    assert isinstance(second, CameraObject) and second.key == "cameras/gate/é.jpg"


def test_the_object_id_names_one_version_of_one_object():
    one, same, other_version, other_key = announced_objects(
        {
            "Records": [
                _record("cameras/g/x.jpg", versionId="v1"),
                _record("cameras/g/x.jpg", versionId="v1"),
                _record("cameras/g/x.jpg", versionId="v2"),
                _record("cameras/g/y.jpg", versionId="v1"),
            ]
        }
    )
    assert isinstance(one, CameraObject) and isinstance(same, CameraObject)
    assert isinstance(other_version, CameraObject) and isinstance(other_key, CameraObject)
    assert one.object_id == same.object_id
    assert len({one.object_id, other_version.object_id, other_key.object_id}) == 3


def test_removals_and_malformed_records_are_reported_not_dropped():
    event = {"Records": [_record("cameras/g/x.jpg", name="ObjectRemoved:Delete"), {"eventSource": "aws:s3"}]}
    removed, malformed = announced_objects(event)
    assert isinstance(removed, RecordProblem) and "ObjectRemoved:Delete" in removed.reason
    assert removed.key == "cameras/g/x.jpg"
    assert isinstance(malformed, RecordProblem) and malformed.bucket is None


def test_eventbridge_keys_are_taken_as_they_are():
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": "2024-05-01T12:00:00Z",
        "detail": {
            "bucket": {"name": "cams"},
            "object": {
                "key": "cameras/g/a+b.jpg",
                "size": 5,
                "etag": "e",
                "version-id": "v",
                "sequencer": "s",
            },
        },
    }
    (obj,) = announced_objects(event)
    assert isinstance(obj, CameraObject)
    assert (obj.key, obj.version_id, obj.sequencer) == ("cameras/g/a+b.jpg", "v", "s")
    deleted = {**event, "detail-type": "Object Deleted"}
    (problem,) = announced_objects(deleted)
    assert isinstance(problem, RecordProblem)


def test_the_handler_routes_s3_events_and_nothing_else_to_the_cameras():
    assert event_kind({"Records": [_record("cameras/g/x.jpg")]}) == "s3"
    assert event_kind({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}) == "s3"
    assert event_kind({"Service": "Amazon S3", "Event": "s3:TestEvent"}) == "s3"
    assert announced_objects({"Service": "Amazon S3", "Event": "s3:TestEvent"}) == []
    assert event_kind({"Records": [{"eventSource": "aws:sqs"}]}) == "sqs"  # index batches (frs/indexing)
    assert event_kind({"action": "health"}) == "direct"
    assert not is_s3_event({"Records": []})
