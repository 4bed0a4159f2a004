"""What an HTTP request carries for image routes: the image(s) and the other fields, whatever the encoding.

Accepted bodies: multipart/form-data (field ``file``, optional ``file_b``; other fields as text), a raw
``image/*`` body, or JSON ``{"image_base64" | "image" | "s3", "image_b_base64" | "image_b", ...fields}``.
Query-string parameters are fields too.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from frs.api.images import check_inline_size, decode_base64, fetch_s3_image, image_from_reference
from frs.api.multipart import parse_multipart
from frs.config import Settings
from frs.errors import FRSError

ACCEPTED = "multipart/form-data (field 'file'), image/jpeg|png|webp|bmp, or application/json"


@dataclass
class HttpInput:
    image: bytes | None = None
    image_b: bytes | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def require_image(self) -> bytes:
        if self.image is None:
            raise FRSError("bad_request", f"no image in the request; send {ACCEPTED}")
        return self.image


def raw_body(body: str | None, is_base64: bool) -> bytes:
    if not body:
        return b""
    if is_base64:
        check_inline_size(len(body) * 3 // 4)
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise FRSError("bad_request", "the base64-encoded request body is invalid") from exc
    data = body.encode("utf-8", "surrogateescape")
    check_inline_size(len(data))
    return data


def _json_fields(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FRSError("bad_request", "the JSON body is not valid JSON") from exc
    if not isinstance(value, dict):
        raise FRSError("bad_request", "the JSON body must be an object")
    return value


def _json_image(fields: dict[str, Any], suffix: str, settings: Settings) -> bytes | None:
    if fields.get(f"image{suffix}_base64") is not None:
        return decode_base64(fields[f"image{suffix}_base64"], f"image{suffix}_base64")
    if fields.get(f"image{suffix}") is not None:
        return image_from_reference(fields[f"image{suffix}"], f"image{suffix}", settings)
    if not suffix and fields.get("s3") is not None:
        return fetch_s3_image(fields["s3"], "s3", settings)
    return None


def parse_http_input(
    body: bytes,
    content_type: str | None,
    query: dict[str, str],
    settings: Settings,
    *,
    image_expected: bool = True,
) -> HttpInput:
    """Split a request into images and fields; errors are 400 / 413 / 415 with documented codes."""
    fields: dict[str, Any] = dict(query)
    if not body:
        if image_expected:
            raise FRSError("bad_request", f"the request body is empty; send {ACCEPTED}")
        return HttpInput(fields=fields)
    if not content_type:
        raise FRSError("unsupported_media_type", f"a Content-Type header is required: {ACCEPTED}")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        parts = parse_multipart(body, content_type)
        if "file" not in parts and image_expected:
            raise FRSError("bad_request", "multipart body has no 'file' field")
        for name, part in parts.items():
            if name not in ("file", "file_b"):
                text = part.data.decode("utf-8", "replace")
                if name == "metadata":
                    if text.strip():  # an empty form field means "no metadata", as HTML forms send it
                        fields[name] = _json_fields(part.data)
                else:
                    fields[name] = text
        return HttpInput(
            image=parts["file"].data if "file" in parts else None,
            image_b=parts["file_b"].data if "file_b" in parts else None,
            fields=fields,
        )
    if media.startswith("image/"):
        return HttpInput(image=body, fields=fields)
    if media == "application/json" or media.endswith("+json"):
        fields.update(_json_fields(body))
        return HttpInput(
            image=_json_image(fields, "", settings),
            image_b=_json_image(fields, "_b", settings),
            fields=fields,
        )
    raise FRSError("unsupported_media_type", f"Content-Type {media!r} is not accepted; send {ACCEPTED}")
