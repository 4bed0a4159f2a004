"""Small JSON objects (results, alert state, the cameras document) with compare-and-swap writes.

Two stores with one meaning: :class:`S3Objects` (``s3://bucket/prefix``; ``If-None-Match: *`` and
``If-Match: <etag>`` on PUT, which S3 evaluates atomically) and :class:`LocalObjects` (a directory, for
``frs watch``: the same checks under an exclusive ``flock``). A failed condition raises
:class:`PreconditionFailed`; anything else is an ``FRSError``: ``storage_misconfigured`` (no bucket, access
denied) or ``storage_unavailable`` (throttling, 5xx, no connection after the client's retries), both 5xx, so
the invocation is retried rather than the object silently skipped.
"""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as URLLib3Error

from frs import aws
from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.file.diskio import disk_errors, exclusive, publish, remove_quietly, temp_path
from frs.gallery.file.transports.s3 import is_lost_race


class PreconditionFailed(Exception):  # noqa: N818 - named after the HTTP status it mirrors
    """The object is not in the state the write was conditional on."""


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    etag: str


class ObjectStore(Protocol):
    def describe(self, key: str) -> str:
        """Where ``key`` lives, for messages and results (``s3://...`` or a path)."""
        ...

    def get(self, key: str) -> StoredObject | None:
        """The object, or None if there is none."""
        ...

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        """Store ``data`` as ``key`` and return its new ETag. ``if_absent``: only if no object exists;
        ``if_match``: only if the stored object has that ETag. Otherwise :class:`PreconditionFailed`."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix`` (relative to the store, like ``get``'s), in key order."""
        ...


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ``("bucket", "some/prefix")``."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return bucket, prefix.strip("/")


def open_store(uri: str, settings: Settings) -> ObjectStore:
    """The store at ``uri``: ``s3://bucket[/prefix]``, ``file://...`` or a directory."""
    if uri.startswith("s3://"):
        bucket, prefix = split_s3_uri(uri)
        return S3Objects(bucket, prefix, aws.client("s3", settings))
    path = unquote(urlparse(uri).path) if uri.startswith("file://") else uri
    return LocalObjects(Path(path))


_TRANSIENT = {"RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded"}


def _status(exc: ClientError) -> tuple[str, int]:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(error.get("Code", "")), int(status or 0)


def s3_error(exc: Exception, action: str, where: str) -> FRSError:
    """An S3 failure as the documented 5xx code: transient ones are retried by the invocation's retry."""
    if isinstance(exc, ClientError):
        code, status = _status(exc)
        if status >= 500 or status == 0 or code in _TRANSIENT:
            return FRSError("storage_unavailable", f"cannot {action} {where}: S3 answered {status} {code}")
        return FRSError("storage_misconfigured", f"cannot {action} {where}: S3 answered {status} {code}")
    return FRSError("storage_unavailable", f"cannot {action} {where}: {type(exc).__name__}")


class S3Objects:
    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def get(self, key: str) -> StoredObject | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            data: bytes = response["Body"].read()
        except ClientError as exc:
            code, status = _status(exc)
            if code in ("NoSuchKey", "404") or (status == 404 and code != "NoSuchBucket"):
                return None
            raise s3_error(exc, "read", self.describe(key)) from exc
        except (BotoCoreError, URLLib3Error) as exc:
            raise s3_error(exc, "read", self.describe(key)) from exc
        return StoredObject(data, str(response["ETag"]))

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "Body": data,
            "ContentType": "text/csv" if key.endswith(".csv") else "application/json",
        }
        if if_absent:
            request["IfNoneMatch"] = "*"
        if if_match is not None:
            request["IfMatch"] = if_match
        try:
            response = self.client.put_object(**request)
        except ClientError as exc:
            if is_lost_race(exc):
                raise PreconditionFailed(f"{self.describe(key)}: {_status(exc)[0]}") from exc
            raise s3_error(exc, "write", self.describe(key)) from exc
        except (BotoCoreError, URLLib3Error) as exc:
            raise s3_error(exc, "write", self.describe(key)) from exc
        return str(response["ETag"])

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                found.extend(str(item["Key"])[strip:] for item in page.get("Contents", []))
        except ClientError as exc:
            raise s3_error(exc, "list", self.describe(prefix)) from exc
        except (BotoCoreError, URLLib3Error) as exc:
            raise s3_error(exc, "list", self.describe(prefix)) from exc
        return sorted(found)


def _content_etag(data: bytes) -> str:
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


class LocalObjects:
    """Objects as files below ``directory`` (keys with ``/`` are sub-directories)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser().resolve()

    def describe(self, key: str) -> str:
        return str(self.directory / key)

    def get(self, key: str) -> StoredObject | None:
        try:
            data = (self.directory / key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FRSError(
                "storage_misconfigured", f"cannot read {self.describe(key)}: {exc.strerror}"
            ) from exc
        return StoredObject(data, _content_etag(data))

    def put(self, key: str, data: bytes, *, if_match: str | None = None, if_absent: bool = False) -> str:
        target = self.directory / key
        temp: Path | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._exclusive(key):
                current = self.get(key)
                if if_absent and current is not None:
                    raise PreconditionFailed(f"{target} exists")
                if if_match is not None and (current is None or current.etag != if_match):
                    raise PreconditionFailed(f"{target} is not at version {if_match}")
                with disk_errors(f"writing {target}"):
                    temp = temp_path(target.parent, target.name)
                    temp.write_bytes(data)
                    publish(temp, target)
                temp = None
        except OSError as exc:
            raise FRSError("storage_misconfigured", f"cannot write {target}: {exc.strerror}") from exc
        finally:
            remove_quietly(temp)
        return _content_etag(data)

    def keys(self, prefix: str) -> list[str]:
        folder = prefix.rpartition("/")[0]
        base = self.directory / folder if folder else self.directory
        if not base.is_dir():
            return []
        found = []
        for path in base.rglob("*"):
            relative = path.relative_to(self.directory).as_posix()
            hidden = path.name.startswith(".") or relative.startswith(".locks/")  # temp files, locks
            if path.is_file() and relative.startswith(prefix) and not hidden:
                found.append(relative)
        return sorted(found)

    def _exclusive(self, key: str) -> AbstractContextManager[None]:
        locks = self.directory / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        lock_path = locks / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.lock"
        return exclusive(lock_path, f"locking {lock_path}")
