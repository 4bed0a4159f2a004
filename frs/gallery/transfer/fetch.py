"""Fetch the photo a face was enrolled from, by its ``source``: ``s3://`` with the process's S3 client, or an
http(s) URL (only here, in the operator's ``frs gallery reindex``: the service itself downloads no URLs).

Both are bounded like ``{"s3": ...}`` image references: at most ``MAX_S3_IMAGE_BYTES``. A URL may redirect
only to another http(s) URL, and waits at most :data:`URL_TIMEOUT` seconds per read.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import IO, Any

from frs.api.images import MAX_S3_IMAGE_BYTES, fetch_s3_image
from frs.config import Settings
from frs.errors import FRSError

URL_TIMEOUT = 30.0


class SourceGoneError(Exception):
    """The photo no longer exists (S3 NoSuchKey, HTTP 404 or 410)."""


class SourceUnreadableError(Exception):
    """The photo could not be fetched (denied, too large, unreachable, not a supported source)."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if not newurl.lower().startswith(("http://", "https://")):
            raise urllib.error.URLError(f"redirected to a non-http(s) location: {newurl[:200]}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def fetch_source(source: str, settings: Settings) -> bytes:
    """The photo bytes of ``source``; :class:`SourceGoneError` or :class:`SourceUnreadableError` (with the
    reason)."""
    if source.startswith("s3://"):
        bucket, _, key = source[len("s3://") :].partition("/")
        try:
            return fetch_s3_image({"bucket": bucket, "key": key}, "source", settings)
        except FRSError as exc:
            if exc.code == "not_found":
                raise SourceGoneError(f"{exc.code}: {exc.message}") from exc
            raise SourceUnreadableError(f"{exc.code}: {exc.message}") from exc
    if source.lower().startswith(("http://", "https://")):
        return _fetch_url(source)
    raise SourceUnreadableError("only s3:// and http(s) sources can be fetched")


def _fetch_url(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "frs-reindex"})
    try:
        with _OPENER.open(request, timeout=URL_TIMEOUT) as response:
            body: bytes = response.read(MAX_S3_IMAGE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise SourceGoneError(f"HTTP {exc.code} from {url}") from exc
        raise SourceUnreadableError(f"HTTP {exc.code} from {url}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceUnreadableError(f"cannot fetch {url}: {reason}") from exc
    if len(body) > MAX_S3_IMAGE_BYTES:
        raise SourceUnreadableError(f"image_too_large: {url} is larger than {MAX_S3_IMAGE_BYTES} bytes")
    return body
