"""Opaque, stable page tokens for listing identities in name order (keyset pagination).

A token records the last name of the previous page (and the prefix it was issued for), so identities added or
removed between pages never shift the remaining pages: every identity present throughout is listed exactly
once.
"""

from __future__ import annotations

import base64
import binascii
import json

from frs.errors import FRSError


def encode_page_token(last_name: str, prefix: str | None) -> str:
    """The token that continues a listing after ``last_name``."""
    raw = json.dumps({"after": last_name, "prefix": prefix}, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_page_token(token: str | None, prefix: str | None) -> str | None:
    """The name to continue after, or None for the first page; bad_request for a foreign or damaged token."""
    if token is None or token == "":
        return None
    if not isinstance(token, str) or len(token) > 1024:
        raise FRSError("bad_request", "page_token is not valid")
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise FRSError("bad_request", "page_token is not valid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("after"), str):
        raise FRSError("bad_request", "page_token is not valid")
    if payload.get("prefix") != prefix:
        raise FRSError("bad_request", "page_token was issued for a different prefix")
    after: str = payload["after"]
    return after
