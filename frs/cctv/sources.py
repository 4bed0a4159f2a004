"""Reading camera objects: a frame into memory, a clip into a temporary file; both within their size limit.

From S3, the GET names the version the event announced (``VersionId``, else ``If-Match`` on its ETag): if
the object was replaced in between, the newer version has its own event and this record is ``superseded``.
A missing object is ``not_found`` (the record's problem); throttling, 5xx and access problems are 5xx codes
(the invocation is retried). The capture-time metadata (``x-amz-meta-capture-time``) comes with the GET.
Locally (``frs watch``) objects are files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as URLLib3Error

from frs.cctv.events import CameraObject
from frs.cctv.objects import s3_error
from frs.errors import FRSError
from frs.gallery.file.diskio import disk_errors

CAPTURE_TIME_METADATA = "capture-time"  # x-amz-meta-capture-time
_CHUNK = 1 << 20


class Superseded(Exception):  # noqa: N818 - an outcome, not a failure
    """The object was replaced after the event: the newer version's own event covers it."""


@dataclass(frozen=True)
class Fetched:
    capture_time: str | None  # the metadata value, unparsed


class SourceReader(Protocol):
    def read(self, obj: CameraObject, limit: int, too_large: str) -> tuple[bytes, Fetched]:
        """The object's bytes; ``FRSError(too_large)`` beyond ``limit`` bytes."""
        ...

    def download(self, obj: CameraObject, destination: Path, limit: int, too_large: str) -> Fetched:
        """The object copied to ``destination``; ``FRSError(too_large)`` beyond ``limit`` bytes."""
        ...


def _too_large(code: str, obj: CameraObject, size: int, limit: int) -> FRSError:
    return FRSError(code, f"s3://{obj.bucket}/{obj.key} is {size} bytes; the limit is {limit} bytes")


def _copy(body: BinaryIO | Any, target: BinaryIO, limit: int) -> int:
    written = 0
    for chunk in iter(lambda: body.read(_CHUNK), b""):
        written += len(chunk)
        if written > limit:
            break
        target.write(chunk)
    return written


class S3Sources:
    def __init__(self, client: Any) -> None:
        self.client = client

    def _get(self, obj: CameraObject, limit: int, too_large: str) -> tuple[Any, Fetched]:
        if obj.size is not None and obj.size > limit:
            raise _too_large(too_large, obj, obj.size, limit)
        request: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id:
            request["VersionId"] = obj.version_id
        elif obj.etag:
            request["IfMatch"] = obj.etag if obj.etag.startswith('"') else f'"{obj.etag}"'
        where = f"s3://{obj.bucket}/{obj.key}"
        try:
            response = self.client.get_object(**request)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if status == 412 or code == "PreconditionFailed":
                raise Superseded(where) from exc
            if code in ("NoSuchKey", "NoSuchVersion", "404") or (status == 404 and code != "NoSuchBucket"):
                raise FRSError("not_found", f"no object {where} (deleted after the event?)") from exc
            raise s3_error(exc, "read", where) from exc
        except (BotoCoreError, URLLib3Error) as exc:
            raise s3_error(exc, "read", where) from exc
        size = int(response.get("ContentLength") or 0)
        if size > limit:
            response["Body"].close()
            raise _too_large(too_large, obj, size, limit)
        metadata = {k.lower(): v for k, v in (response.get("Metadata") or {}).items()}
        return response["Body"], Fetched(metadata.get(CAPTURE_TIME_METADATA))

    def read(self, obj: CameraObject, limit: int, too_large: str) -> tuple[bytes, Fetched]:
        body, fetched = self._get(obj, limit, too_large)
        try:
            data: bytes = body.read(limit + 1)
        except (BotoCoreError, URLLib3Error) as exc:
            raise s3_error(exc, "read", f"s3://{obj.bucket}/{obj.key}") from exc
        if len(data) > limit:
            raise _too_large(too_large, obj, len(data), limit)
        return data, fetched

    def download(self, obj: CameraObject, destination: Path, limit: int, too_large: str) -> Fetched:
        body, fetched = self._get(obj, limit, too_large)
        try:
            with disk_errors(f"downloading s3://{obj.bucket}/{obj.key}"), destination.open("wb") as target:
                written = _copy(body, target, limit)
        except (BotoCoreError, URLLib3Error) as exc:
            raise s3_error(exc, "read", f"s3://{obj.bucket}/{obj.key}") from exc
        if written > limit:
            raise _too_large(too_large, obj, written, limit)
        return fetched


class LocalSources:
    """Camera objects as local files: ``paths`` maps each object key to its file."""

    def __init__(self, paths: dict[str, Path]) -> None:
        self.paths = paths

    def _path(self, obj: CameraObject, limit: int, too_large: str) -> Path:
        path = self.paths.get(obj.key)
        if path is None or not path.is_file():
            raise FRSError("not_found", f"no file for {obj.key}")
        size = path.stat().st_size
        if size > limit:
            raise FRSError(too_large, f"{path} is {size} bytes; the limit is {limit} bytes")
        return path

    def read(self, obj: CameraObject, limit: int, too_large: str) -> tuple[bytes, Fetched]:
        return self._path(obj, limit, too_large).read_bytes(), Fetched(None)

    def download(self, obj: CameraObject, destination: Path, limit: int, too_large: str) -> Fetched:
        with disk_errors(f"copying {obj.key}"):
            shutil.copyfile(self._path(obj, limit, too_large), destination)
        return Fetched(None)
