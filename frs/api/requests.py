"""What an HTTP request carries: its image(s) and its other fields, whatever the encoding.

Accepted bodies: multipart/form-data (file fields ``image`` and ``image_b``, or their older names ``file`` and
``file_b``; other fields as text, ``metadata`` as JSON), a raw ``image/*`` body (the ``image``), or JSON
(``{"image": {"base64"} | {"s3"}, "image_b": ..., ...fields}``, with the older ``image_base64``,
``image_b_base64`` and top-level ``s3``). Query-string parameters are fields too; a field may come from the
query string or the body, not both.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from frs.api.images import check_inline_size, json_image
from frs.api.multipart import Part, parse_multipart
from frs.config import Settings
from frs.errors import FRSError

ACCEPTED = "multipart/form-data (field 'image'), image/* (JPEG, PNG, WebP, BMP, PGM/PPM), or application/json"
#: Multipart file fields by image parameter: the name, then its older name (the seed's curl flow uses 'file').
MULTIPART_NAMES = {"image": ("image", "file"), "image_b": ("image_b", "file_b")}


@dataclass
class HttpInput:
    images: dict[str, bytes] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    json_settings: Settings | None = None  # a JSON body's images are read on demand (an S3 read comes last)

    def image(self, name: str) -> bytes | None:
        if name in self.images:
            return self.images[name]
        if self.json_settings is not None:
            return json_image(self.fields, name, self.json_settings)
        return None


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


def _merge(fields: dict[str, Any], body_fields: dict[str, Any]) -> dict[str, Any]:
    for name in body_fields:
        if name in fields:
            raise FRSError("bad_request", f"'{name}' is given both in the query string and in the body")
    return {**fields, **body_fields}


def _multipart_file(parts: dict[str, Part], image: str) -> bytes | None:
    for name in MULTIPART_NAMES[image]:
        if name in parts:
            return parts[name].data
    return None


def _multipart(body: bytes, content_type: str, query: dict[str, Any], images: Sequence[str]) -> HttpInput:
    parts = parse_multipart(body, content_type)
    file_fields = {name for image in MULTIPART_NAMES for name in MULTIPART_NAMES[image]}
    found = {image: data for image in images if (data := _multipart_file(parts, image)) is not None}
    if images and images[0] not in found:
        raise FRSError("bad_request", f"the multipart body has no '{images[0]}' field")
    body_fields: dict[str, Any] = {}
    for name, part in parts.items():
        if name in file_fields:
            continue
        if name == "metadata":
            if part.data.strip():  # an empty form field means "no metadata", as HTML forms send it
                body_fields[name] = _json_fields(part.data)
        else:
            body_fields[name] = part.data.decode("utf-8", "replace")
    return HttpInput(images=found, fields=_merge(query, body_fields))


def parse_http_input(
    body: bytes,
    content_type: str | None,
    query: dict[str, str],
    settings: Settings,
    *,
    images: Sequence[str] = ("image",),
) -> HttpInput:
    """Split a request into the images its route takes (``images``, the first required) and its fields;
    errors are 400 / 413 / 415 with documented codes."""
    fields: dict[str, Any] = dict(query)
    if not body:
        if images:
            raise FRSError("bad_request", f"the request body is empty; send {ACCEPTED}")
        return HttpInput(fields=fields)
    if not content_type:
        raise FRSError("unsupported_media_type", f"a Content-Type header is required: {ACCEPTED}")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "multipart/form-data":
        return _multipart(body, content_type, fields, images)
    if media.startswith("image/"):
        return HttpInput(images={"image": body}, fields=fields)
    if media == "application/json" or media.endswith("+json"):
        return HttpInput(fields=_merge(fields, _json_fields(body)), json_settings=settings)
    raise FRSError("unsupported_media_type", f"Content-Type {media!r} is not accepted; send {ACCEPTED}")
