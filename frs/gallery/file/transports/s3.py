"""Gallery files as S3 objects (``s3://bucket/prefix`` -> ``<prefix>/<gallery>.sqlite``).

Conditional requests do the concurrency control: ``If-None-Match`` on GET (304 keeps the cache) and
``If-Match`` / ``If-None-Match: *`` on PUT (412 means another writer won). The client comes from
:func:`frs.aws.client`, so region, endpoint, retries and timeouts are the ``Settings`` ones: throttling, 5xx
and connection failures are retried up to ``FRS_S3_MAX_ATTEMPTS`` attempts per request, plus up to two fresh
attempts when a download stream breaks; after that ``storage_unavailable``. A missing bucket or denied access
is ``storage_misconfigured``.

The read timeout (``FRS_S3_READ_TIMEOUT``) must leave room for the retries inside one invocation: Lambda and
the HTTP API stop after 30 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from urllib3.exceptions import HTTPError as URLLib3Error

from frs.errors import FRSError
from frs.gallery.file.diskio import disk_errors
from frs.gallery.file.transports.protocol import GALLERY_SUFFIX, FetchResult, PreconditionFailed

_STREAM_ATTEMPTS = 3
# A connection that breaks while botocore reads an error or 304 answer's body escapes its retries as a raw
# urllib3 error (botocore reads that body outside its retry handling); it is as transient as any other break.
_BROKEN_STREAM = (IncompleteReadError, ResponseStreamingError, ReadTimeoutError, URLLib3Error)
_CHUNK = 1 << 20

_MISCONFIGURED = {
    "NoSuchBucket": "the bucket does not exist",
    "AccessDenied": "access is denied (check the IAM policy: s3:GetObject, s3:PutObject, s3:ListBucket)",
    "AllAccessDisabled": "all access to the bucket is disabled",
    "InvalidAccessKeyId": "the access key id is not valid",
    "SignatureDoesNotMatch": "the secret access key is wrong",
    "ExpiredToken": "the session credentials have expired",
    "InvalidToken": "the session token is not valid",
    "InvalidBucketName": "the bucket name is not valid",
    "PermanentRedirect": "the bucket is in another region (set AWS_REGION)",
    "AuthorizationHeaderMalformed": "the region does not match the bucket's (set AWS_REGION)",
    "NotImplemented": "the object store does not support conditional requests (If-Match / If-None-Match)",
}

# 4xx answers that are about load or timing, not about our configuration.
_TRANSIENT = {"RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into (bucket, prefix without surrounding slashes)."""
    rest = uri[len("s3://") :] if uri.startswith("s3://") else ""
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise FRSError("storage_misconfigured", f"FRS_GALLERY_URI {uri!r} has no bucket (s3://bucket/prefix)")
    return bucket, prefix.strip("/")


def _error_code(exc: ClientError) -> tuple[str, int]:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(error.get("Code", "")), int(status or 0)


def is_lost_race(exc: ClientError) -> bool:
    """A conditional PUT that lost: 412 (another writer won), 409 (a concurrent conditional write is in
    flight), NoSuchKey (the object an If-Match named was deleted). All mean "re-read and decide again"."""
    code, status = _error_code(exc)
    return status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey")


class S3Transport:
    """Conditional storage of whole gallery files in one bucket under one prefix."""

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client  # from frs.aws.client("s3", settings)

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def fetch(self, key: str, destination: Path, if_none_match: str | None) -> FetchResult:
        for attempt in range(_STREAM_ATTEMPTS):
            try:
                return self._fetch_once(key, destination, if_none_match)
            except _BROKEN_STREAM as exc:
                if attempt == _STREAM_ATTEMPTS - 1:
                    raise self._translate(exc, "download", key) from exc
        raise AssertionError("unreachable")

    def _fetch_once(self, key: str, destination: Path, if_none_match: str | None) -> FetchResult:
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if if_none_match is not None:
            request["IfNoneMatch"] = if_none_match
        try:
            response = self.client.get_object(**request)
        except ClientError as exc:
            code, status = _error_code(exc)
            if status == 304 or code in ("304", "NotModified"):
                return FetchResult("not_modified", if_none_match)
            if code in ("NoSuchKey", "404") or (status == 404 and code != "NoSuchBucket"):
                return FetchResult("missing")
            raise self._translate(exc, "download", key) from exc
        except (BotoCoreError, NoCredentialsError) as exc:
            raise self._translate(exc, "download", key) from exc
        body = response["Body"]
        expected = response.get("ContentLength")
        written = 0
        with disk_errors(f"caching {self.describe(key)}"), destination.open("wb") as target:
            for chunk in body.iter_chunks(_CHUNK):
                target.write(chunk)
                written += len(chunk)
        if expected is not None and written != expected:
            raise IncompleteReadError(actual_bytes=written, expected_bytes=expected)
        return FetchResult("downloaded", str(response["ETag"]))

    def fetch_version(self, key: str, version_id: str, destination: Path) -> None:
        """Download one earlier version of ``key`` (a versioned bucket's ``VersionId``) into ``destination``;
        ``not_found`` if the bucket has no such version of it."""
        request = {"Bucket": self.bucket, "Key": self.object_key(key), "VersionId": version_id}
        for attempt in range(_STREAM_ATTEMPTS):
            try:
                response = self.client.get_object(**request)
                with disk_errors(f"caching {self.describe(key)}"), destination.open("wb") as target:
                    for chunk in response["Body"].iter_chunks(_CHUNK):
                        target.write(chunk)
                return
            except ClientError as exc:
                code, status = _error_code(exc)
                if code in ("NoSuchVersion", "NoSuchKey", "InvalidArgument", "404") or status == 404:
                    raise FRSError(
                        "not_found", f"{self.describe(key)} has no version {version_id!r}"
                    ) from exc
                raise self._translate(exc, "download", key) from exc
            except (BotoCoreError, NoCredentialsError) as exc:
                raise self._translate(exc, "download", key) from exc
            except _BROKEN_STREAM as exc:
                if attempt == _STREAM_ATTEMPTS - 1:
                    raise self._translate(exc, "download", key) from exc

    def put(self, key: str, source: Path, if_match: str | None) -> str:
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.object_key(key),
            "ContentType": "application/vnd.sqlite3",
        }
        if if_match is None:
            request["IfNoneMatch"] = "*"
        else:
            request["IfMatch"] = if_match
        try:
            with source.open("rb") as body:
                response = self.client.put_object(Body=body, **request)
        except ClientError as exc:
            if is_lost_race(exc):
                raise PreconditionFailed(f"{self.describe(key)} changed: {_error_code(exc)[0]}") from exc
            raise self._translate(exc, "upload", key) from exc
        except (BotoCoreError, NoCredentialsError, URLLib3Error) as exc:
            raise self._translate(exc, "upload", key) from exc
        return str(response["ETag"])

    def list_keys(self) -> list[str]:
        base = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base, Delimiter="/"
            ):
                for item in page.get("Contents", []):
                    name = str(item["Key"])[len(base) :]
                    if name.endswith(GALLERY_SUFFIX):
                        keys.append(name)
        except (ClientError, BotoCoreError, URLLib3Error) as exc:
            raise self._translate(exc, "list", "") from exc
        return sorted(keys)

    def _translate(self, exc: Exception, action: str, key: str) -> FRSError:
        where = self.describe(key) if key else f"s3://{self.bucket}/{self.prefix}"
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return FRSError("storage_misconfigured", f"cannot {action} {where}: no AWS credentials found")
        if isinstance(exc, ClientError):
            code, status = _error_code(exc)
            if code in _MISCONFIGURED:
                return FRSError("storage_misconfigured", f"cannot {action} {where}: {_MISCONFIGURED[code]}")
            if status == 403:
                return FRSError(
                    "storage_misconfigured", f"cannot {action} {where}: access is denied ({code})"
                )
            if status >= 500 or status == 0 or code in _TRANSIENT:
                return FRSError(
                    "storage_unavailable", f"cannot {action} {where}: S3 answered {status} {code}"
                )
            return FRSError(
                "storage_misconfigured", f"cannot {action} {where}: S3 rejected the request: {code}"
            )
        return FRSError("storage_unavailable", f"cannot {action} {where}: {type(exc).__name__}")
