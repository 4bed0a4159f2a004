"""Upload an object to the test S3 and build the event S3 would send for it (both forms).

``records_event`` is the S3 -> Lambda notification (keys URL-encoded, as S3 does); ``eventbridge_event``
is the EventBridge "Object Created" event (keys as they are). Both carry the ETag, size and sequencer of
the object actually stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus


@dataclass(frozen=True)
class Uploaded:
    bucket: str
    key: str
    etag: str  # without quotes, as events carry it
    size: int
    version_id: str | None
    sequencer: str


def upload(
    client: Any, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None
) -> Uploaded:
    response = client.put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata or {})
    return Uploaded(
        bucket=bucket,
        key=key,
        etag=str(response["ETag"]).strip('"'),
        size=len(data),
        version_id=response.get("VersionId"),
        sequencer=f"{datetime.now(UTC).timestamp():.6f}".replace(".", "").upper(),
    )


def _time(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record(
    item: Uploaded, *, event_name: str = "ObjectCreated:Put", at: datetime | None = None
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "key": quote_plus(item.key, safe="/"),
        "size": item.size,
        "eTag": item.etag,
        "sequencer": item.sequencer,
    }
    if item.version_id:
        obj["versionId"] = item.version_id
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": _time(at),
        "eventName": event_name,
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "cameras",
            "bucket": {"name": item.bucket, "arn": f"arn:aws:s3:::{item.bucket}"},
            "object": obj,
        },
    }


def records_event(*items: Uploaded, at: datetime | None = None) -> dict[str, Any]:
    return {"Records": [record(item, at=at) for item in items]}


def eventbridge_event(item: Uploaded, *, at: datetime | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": item.key, "size": item.size, "etag": item.etag, "sequencer": item.sequencer}
    if item.version_id:
        obj["version-id"] = item.version_id
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": _time(at),
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{item.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": item.bucket},
            "object": obj,
            "reason": "PutObject",
        },
    }
