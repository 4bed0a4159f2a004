"""Which objects an S3 event announces: the notification ``Records`` form and the EventBridge form.

* S3 event notifications (S3 -> Lambda): ``{"Records": [{"eventSource": "aws:s3", "eventName":
  "ObjectCreated:Put", "eventTime", "s3": {"bucket": {"name"}, "object": {"key", "size", "eTag", "versionId",
  "sequencer"}}}]}``. Keys are URL-encoded there (``+`` for a space, ``%XX``) and are decoded here.
* EventBridge (S3 -> EventBridge rule -> Lambda): ``{"source": "aws.s3", "detail-type": "Object Created",
  "time", "detail": {"bucket": {"name"}, "object": {"key", "size", "etag", "version-id", "sequencer"}}}``.
  EventBridge carries keys as they are (not URL-encoded).
* ``{"Service": "Amazon S3", "Event": "s3:TestEvent"}``, which S3 sends once when a notification is set up,
  is recognised and announces nothing.

A record that is not an object creation (``ObjectRemoved:*``, a malformed record) becomes a
:class:`RecordProblem` with its reason: reported in the batch summary, never dropped silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus


@dataclass(frozen=True)
class CameraObject:
    """One created object an event announced (the key decoded)."""

    bucket: str
    key: str
    size: int | None
    version_id: str | None
    etag: str | None
    sequencer: str | None
    event_time: datetime | None

    @property
    def object_id(self) -> str:
        """Stable for this version of this object, whatever invocation (or retry) processes it."""
        version = self.version_id or self.etag or self.sequencer or ""
        return hashlib.sha256(f"{self.bucket}\0{self.key}\0{version}".encode()).hexdigest()[:32]

    def source(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "key": self.key, "version_id": self.version_id, "etag": self.etag}


@dataclass(frozen=True)
class RecordProblem:
    """A record that names no object to process, and why."""

    bucket: str | None
    key: str | None
    reason: str


Announced = CameraObject | RecordProblem


def is_s3_event(event: Any) -> bool:
    """True for the three shapes this module reads (so the handler dispatches them here)."""
    if not isinstance(event, dict):
        return False
    if event.get("source") == "aws.s3" and "detail-type" in event:
        return True
    if event.get("Event") == "s3:TestEvent" and event.get("Service") == "Amazon S3":
        return True
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records)
    )


def announced_objects(event: dict[str, Any]) -> list[Announced]:
    """Every object ``event`` announces, in order, or the problem with its record."""
    if event.get("Event") == "s3:TestEvent":
        return []
    if event.get("source") == "aws.s3":
        return [_from_eventbridge(event)]
    return [_from_record(record) for record in event.get("Records", [])]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time from an event (``2024-01-02T03:04:05.678Z``), timezone-aware, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _member(value: Any, name: str) -> dict[str, Any]:
    """``value[name]`` if both are JSON objects, else an empty one (events are read defensively)."""
    inner = value.get(name) if isinstance(value, dict) else None
    return inner if isinstance(inner, dict) else {}


def _announced(
    bucket: str | None, key: str | None, created: bool, what: str, obj: dict[str, Any], **fields: Any
) -> Announced:
    """The object, or why not: ``fields`` are the object's version, etag, sequencer and event time."""
    if not created:
        return RecordProblem(bucket, key, f"not an object creation ({what})")
    if bucket is None or key is None:
        return RecordProblem(bucket, key, "the event names no bucket and key")
    return CameraObject(bucket=bucket, key=key, size=_size(obj.get("size")), **fields)


def _from_record(record: dict[str, Any]) -> Announced:
    s3 = _member(record, "s3")
    obj = _member(s3, "object")
    raw_key = _text(obj.get("key"))
    name = record.get("eventName")
    return _announced(
        _text(_member(s3, "bucket").get("name")),
        unquote_plus(raw_key) if raw_key else None,
        isinstance(name, str) and name.startswith("ObjectCreated:"),
        f"eventName {name!r}",
        obj,
        version_id=_text(obj.get("versionId")),
        etag=_text(obj.get("eTag")),
        sequencer=_text(obj.get("sequencer")),
        event_time=parse_time(record.get("eventTime")),
    )


def _from_eventbridge(event: dict[str, Any]) -> Announced:
    detail = _member(event, "detail")
    obj = _member(detail, "object")
    kind = event.get("detail-type")
    return _announced(
        _text(_member(detail, "bucket").get("name")),
        _text(obj.get("key")),
        kind == "Object Created",
        f"detail-type {kind!r}",
        obj,
        version_id=_text(obj.get("version-id")),
        etag=_text(obj.get("etag")),
        sequencer=_text(obj.get("sequencer")),
        event_time=parse_time(event.get("time")),
    )
