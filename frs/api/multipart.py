"""A small multipart/form-data reader for API Gateway bodies (which arrive whole, never streamed)."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

from frs.errors import FRSError


@dataclass(frozen=True)
class Part:
    data: bytes
    content_type: str
    filename: str | None


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part]:
    """Fields of a multipart/form-data body by name (the first part wins for repeated names)."""
    if "boundary=" not in content_type:
        raise FRSError("bad_request", "multipart/form-data needs a boundary in its Content-Type")
    envelope = b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    message = BytesParser(policy=HTTP).parsebytes(envelope)
    if not message.is_multipart():
        raise FRSError("bad_request", "the multipart body could not be parsed")
    parts: dict[str, Part] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts[name] = Part(data=data, content_type=part.get_content_type(), filename=part.get_filename())
    if not parts:
        raise FRSError("bad_request", "the multipart body has no named fields")
    return parts
