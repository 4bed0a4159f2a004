"""Image references in requests: ``{"base64": ...}`` or ``{"s3": {bucket, key}}`` objects (and the older
``image_base64`` / ``image_b_base64`` strings and top-level ``s3`` object).

Limits: a synchronous Lambda payload is at most 6 MB, so larger images must come by S3 reference. S3 images
are read with the process's S3 client (:func:`frs.aws.client`), only from ``Settings.input_bucket`` if set.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from frs import aws
from frs.config import Settings
from frs.errors import FRSError

MAX_INLINE_BYTES = 6 * 1024 * 1024
MAX_S3_IMAGE_BYTES = 50 * 1024 * 1024
TOO_LARGE_HINT = 'send larger images as an S3 reference: {"s3": {"bucket": ..., "key": ...}}'


def check_inline_size(size: int) -> None:
    if size > MAX_INLINE_BYTES:
        raise FRSError(
            "payload_too_large",
            f"the request body is {size} bytes; Lambda accepts at most {MAX_INLINE_BYTES} bytes inline. "
            + TOO_LARGE_HINT,
        )


def decode_base64(text: Any, field: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet, optional ``data:...;base64,`` prefix)."""
    if not isinstance(text, str) or not text:
        raise FRSError("bad_request", f"{field} must be a non-empty base64 string")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    check_inline_size(len(text) * 3 // 4)
    compact = "".join(text.split())
    try:
        if "-" in compact or "_" in compact:
            return base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FRSError("bad_request", f"{field} is not valid base64") from exc


def fetch_s3_image(reference: Any, field: str, settings: Settings) -> bytes:
    if not isinstance(reference, dict):
        raise FRSError("bad_request", f"{field}.s3 must be an object with bucket and key")
    bucket, key = reference.get("bucket"), reference.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise FRSError("bad_request", f"{field}.s3 needs non-empty string 'bucket' and 'key'")
    allowed = settings.input_bucket
    if allowed and bucket != allowed:
        raise FRSError("forbidden", f"images may only be read from the input bucket {allowed!r}")
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    s3 = aws.client("s3", settings)
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if int(head.get("ContentLength", 0)) > MAX_S3_IMAGE_BYTES:
            raise FRSError(
                "image_too_large", f"s3://{bucket}/{key} is larger than {MAX_S3_IMAGE_BYTES} bytes"
            )
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in ("NoSuchKey", "404", "NotFound") or status == 404:
            raise FRSError("not_found", f"no object s3://{bucket}/{key}") from exc
        if code in ("NoSuchBucket",):
            raise FRSError("not_found", f"no bucket {bucket!r}") from exc
        if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled") or status == 403:
            raise FRSError("forbidden", f"this function may not read s3://{bucket}/{key}") from exc
        raise FRSError(
            "storage_unavailable", f"could not read s3://{bucket}/{key}: {code or status}"
        ) from exc
    except ParamValidationError as exc:
        raise FRSError("bad_request", f"{field}.s3 is not a valid bucket/key: {exc}") from exc
    except BotoCoreError as exc:
        raise FRSError("storage_unavailable", f"could not reach S3 for s3://{bucket}/{key}") from exc


def image_from_reference(value: Any, field: str, settings: Settings) -> bytes:
    """``{"base64": str}`` or ``{"s3": {"bucket", "key"}}`` -> image bytes."""
    if not isinstance(value, dict):
        raise FRSError("bad_request", f'{field} must be an object: {{"base64": ...}} or {{"s3": {{...}}}}')
    if "base64" in value and "s3" in value:
        raise FRSError("bad_request", f"{field} must have either base64 or s3, not both")
    if "base64" in value:
        return decode_base64(value["base64"], f"{field}.base64")
    if "s3" in value:
        return fetch_s3_image(value["s3"], field, settings)
    raise FRSError("bad_request", f"{field} needs a 'base64' or an 's3' member")


def json_image(fields: Mapping[str, Any], name: str, settings: Settings) -> bytes | None:
    """Image ``name`` (``image`` or ``image_b``) of a direct event or JSON body: ``{name: {"base64"} |
    {"s3"}}``, or an older form (``<name>_base64`` as a string; for ``image``, a top-level ``s3``). None if
    absent."""
    if fields.get(name) is not None:
        return image_from_reference(fields[name], name, settings)
    if fields.get(f"{name}_base64") is not None:
        return decode_base64(fields[f"{name}_base64"], f"{name}_base64")
    if name == "image" and fields.get("s3") is not None:
        return fetch_s3_image(fields["s3"], "s3", settings)
    return None
