"""Alerts: who deserves one, what it says, and where it goes.

* ``face.match``: a face (or a clip's track) whose identity is on the watchlist: the identity's metadata has
  ``"watchlist": true`` (JSON true, nothing else), set with ``add`` and ``metadata`` like any metadata.
* ``face.unknown``: a face nobody matched, on a camera with ``alert_unknown``; not for faces refused for low
  quality (blur is not a stranger).

The SNS message is JSON (see :meth:`Alert.message`) with String message attributes ``type``, ``camera``,
``gallery`` and, for matches, ``identity``, so subscriptions can filter (``{"type": ["face.match"]}``).
``event_id`` is deterministic (object version + face or track index): subscribers can drop the rare
duplicate that at-least-once delivery allows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as URLLib3Error

from frs.cctv.answers import LOW_QUALITY
from frs.cctv.keys import iso
from frs.errors import FRSError

AlertType = Literal["face.match", "face.unknown"]
MATCH: AlertType = "face.match"
UNKNOWN: AlertType = "face.unknown"


@dataclass(frozen=True)
class Sighting:
    """One face of a frame, or one track of a clip, as the alert rules see it."""

    kind: Literal["face", "track"]
    index: int
    identity: str | None
    similarity: float | None
    reason: str | None
    bbox: list[float]
    quality: dict[str, Any] | None
    seen_at: datetime  # when the person was seen (capture time; a track's best face)
    watchlisted: bool = False  # the identity's metadata says "watchlist": true
    track: dict[str, Any] | None = None  # first / last seen, for clips


@dataclass(frozen=True)
class Alert:
    type: AlertType
    event_id: str
    camera: str
    gallery: str
    sighting: Sighting
    source: dict[str, Any]  # bucket, key, version_id, etag of the camera object
    result: str  # where the result document is

    @property
    def identity(self) -> str | None:
        return self.sighting.identity

    def message(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "event_id": self.event_id,
            "camera": self.camera,
            "gallery": self.gallery,
            "identity": self.sighting.identity,
            "similarity": self.sighting.similarity,
            "bbox": self.sighting.bbox,
            "quality": self.sighting.quality,
            "captured_at": iso(self.sighting.seen_at),
            "source": {"bucket": self.source["bucket"], "key": self.source["key"]},
            "result": self.result,
        }
        if self.sighting.track is not None:
            body["track"] = self.sighting.track
        return body

    def attributes(self) -> dict[str, dict[str, str]]:
        values = {"type": self.type, "camera": self.camera, "gallery": self.gallery}
        if self.sighting.identity is not None:
            values["identity"] = self.sighting.identity
        return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}

    def summary(self, status: str) -> dict[str, Any]:
        """What the result document records about this alert."""
        return {
            "type": self.type,
            "event_id": self.event_id,
            "identity": self.sighting.identity,
            self.sighting.kind: self.sighting.index,
            "status": status,
        }


def event_id(object_id: str, sighting: Sighting) -> str:
    return hashlib.sha256(f"{object_id}\0{sighting.kind}\0{sighting.index}".encode()).hexdigest()[:32]


def alerts_for(
    sightings: list[Sighting], *, alert_unknown: bool, make: Callable[[AlertType, Sighting], Alert]
) -> list[Alert]:
    """The alerts ``sightings`` deserve, in order."""
    alerts = []
    for sighting in sightings:
        if sighting.identity is not None:
            if sighting.watchlisted:
                alerts.append(make(MATCH, sighting))
        elif alert_unknown and sighting.reason != LOW_QUALITY:
            alerts.append(make(UNKNOWN, sighting))
    return alerts


class AlertSink(Protocol):
    def publish(self, alert: Alert) -> None:
        """Deliver ``alert`` or raise ``FRSError('alert_unavailable')``."""
        ...


class SnsSink:
    """Publishes to one SNS topic (client from :func:`frs.aws.client`: its retries come first)."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        self.topic_arn = topic_arn
        self.client = client

    def publish(self, alert: Alert) -> None:
        try:
            self.client.publish(
                TopicArn=self.topic_arn,
                Message=json.dumps(alert.message(), ensure_ascii=False, sort_keys=True),
                MessageAttributes=alert.attributes(),
            )
        except (ClientError, BotoCoreError, URLLib3Error) as exc:
            detail = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
            raise FRSError(
                "alert_unavailable", f"could not publish to {self.topic_arn}: {detail or type(exc).__name__}"
            ) from exc


class CallbackSink:
    """Hands every alert's message to a function (``frs watch`` prints it)."""

    def __init__(self, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.deliver = deliver

    def publish(self, alert: Alert) -> None:
        self.deliver(alert.message())
