"""What an index job enrols: photos named by identity, from a prefix or a manifest, and reading one photo.

* ``s3://bucket/prefix`` is laid out ``<prefix>/<identity>/<photo>``: every object exactly one folder below
  the prefix whose name ends in an image suffix. Other objects are skipped, with why.
* A manifest is a CSV of ``identity,key[,metadata]`` (an optional header row ``identity,key,...``); ``key``
  is a key in the manifest's bucket or a full ``s3://bucket/key``; ``metadata`` a JSON object stored with the
  identity.

Identity names are checked here, so a job never sends a photo the gallery would refuse by name.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from frs.errors import FRSError
from frs.gallery.validation import validate_identity_name

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
#: Larger photos are refused (too_large) before download, as for {"s3": ...} images of the API.
MAX_PHOTO_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Photo:
    identity: str
    bucket: str
    key: str
    metadata: dict[str, Any] | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"identity": self.identity, "bucket": self.bucket, "key": self.key}
        if self.metadata is not None:
            body["metadata"] = self.metadata
        return body

    @classmethod
    def from_dict(cls, value: Any) -> Photo:
        if not isinstance(value, dict):
            raise TypeError("a photo must be an object")
        identity, bucket, key = value.get("identity"), value.get("bucket"), value.get("key")
        metadata = value.get("metadata")
        if not all(isinstance(v, str) and v for v in (identity, bucket, key)):
            raise ValueError("a photo needs non-empty string identity, bucket and key")
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError("a photo's metadata must be an object")
        assert isinstance(identity, str) and isinstance(bucket, str) and isinstance(key, str)
        return cls(identity, bucket, key, metadata)


@dataclass(frozen=True)
class Skipped:
    """An object or manifest row that names no photo to enrol, and why."""

    where: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class Listing:
    photos: list[Photo]
    skipped: list[Skipped]


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix")``; bad_request for anything else."""
    if not uri.startswith("s3://"):
        raise FRSError("bad_request", f"expected an s3://bucket/prefix URI, got {uri!r}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise FRSError("bad_request", f"{uri!r} names no bucket")
    return bucket, prefix.strip("/")


def _name_problem(name: str) -> str | None:
    try:
        validate_identity_name(name)
    except FRSError as exc:
        return exc.message
    return None


def _s3_failure(exc: Exception, what: str) -> FRSError:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in ("NoSuchBucket", "NoSuchKey", "404", "NotFound") or status == 404:
            return FRSError("not_found", f"{what}: no such bucket or object")
        if code in ("AccessDenied", "403", "Forbidden") or status == 403:
            return FRSError("forbidden", f"{what}: access denied")
        return FRSError("storage_unavailable", f"{what}: S3 answered {status} {code}")
    return FRSError("storage_unavailable", f"{what}: {type(exc).__name__}")


def list_prefix(s3: Any, uri: str) -> Listing:
    """Every ``<prefix>/<identity>/<photo>`` below ``uri``, in key order."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_uri(uri)
    start = f"{prefix}/" if prefix else ""
    photos: list[Photo] = []
    skipped: list[Skipped] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=start):
            for item in page.get("Contents", []):
                key = str(item["Key"])
                parts = key[len(start) :].split("/")
                where = f"s3://{bucket}/{key}"
                if key.endswith("/"):
                    continue  # a "folder" placeholder object
                if len(parts) != 2:
                    skipped.append(Skipped(where, "not <prefix>/<identity>/<photo>"))
                elif not parts[1].lower().endswith(IMAGE_SUFFIXES):
                    skipped.append(Skipped(where, "not a photo suffix (" + ", ".join(IMAGE_SUFFIXES) + ")"))
                elif (problem := _name_problem(parts[0])) is not None:
                    skipped.append(Skipped(where, problem))
                else:
                    photos.append(Photo(parts[0], bucket, key))
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failure(exc, f"listing {uri}") from exc
    return Listing(photos, skipped)


def parse_manifest(text: str, default_bucket: str, where: str) -> Listing:
    """The photos of a manifest's CSV ``text``; rows that name none are skipped with why."""
    photos: list[Photo] = []
    skipped: list[Skipped] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row[:2]] == ["identity", "key"]:
            continue
        place = f"{where} line {number}"
        if len(row) < 2 or len(row) > 3:
            skipped.append(Skipped(place, "expected identity,key[,metadata]"))
            continue
        identity, key = row[0].strip(), row[1].strip()
        metadata: dict[str, Any] | None = None
        if len(row) == 3 and row[2].strip():
            try:
                parsed = json.loads(row[2])
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                skipped.append(Skipped(place, "metadata must be a JSON object"))
                continue
            metadata = parsed
        bucket = default_bucket
        if key.startswith("s3://"):
            bucket, key = split_uri(key)
        if not key:
            skipped.append(Skipped(place, "no key"))
        elif (problem := _name_problem(identity)) is not None:
            skipped.append(Skipped(place, problem))
        else:
            photos.append(Photo(identity, bucket, key, metadata))
    return Listing(photos, skipped)


def read_manifest(s3: Any, uri: str) -> Listing:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_uri(uri)
    try:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failure(exc, f"reading the manifest {uri}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FRSError("bad_request", f"the manifest {uri} is not UTF-8 text") from exc
    return parse_manifest(text, bucket, uri)


def read_photo(s3: Any, photo: Photo, input_bucket: str | None) -> bytes:
    """The photo's bytes. Its own problems are FRSErrors with a photo outcome's code (not_found,
    image_too_large); S3 being unreachable or refusing access raises storage_unavailable / forbidden, which
    fail the batch instead (another delivery, or the operator, must fix them)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if input_bucket and photo.bucket != input_bucket:
        raise FRSError("forbidden", f"photos may only be read from the input bucket {input_bucket!r}")
    try:
        head = s3.head_object(Bucket=photo.bucket, Key=photo.key)
        if int(head.get("ContentLength", 0)) > MAX_PHOTO_BYTES:
            raise FRSError("image_too_large", f"{photo.uri} is larger than {MAX_PHOTO_BYTES} bytes")
        body: bytes = s3.get_object(Bucket=photo.bucket, Key=photo.key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise _s3_failure(exc, photo.uri) from exc
    return body
