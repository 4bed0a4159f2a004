"""Fetching a face's source photo for reindex: http(s) URLs from a real local HTTP server (the bytes, 404 and
410 as gone, other statuses, refused connections, oversized bodies and redirects away from http as
unreadable); s3:// sources are covered by test_reindex.py against moto."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from frs.api.images import MAX_S3_IMAGE_BYTES
from frs.config import Settings
from frs.gallery.transfer.fetch import SourceGoneError, SourceUnreadableError, fetch_source

PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes all the same"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/photo.jpg":
            self._send(200, PHOTO)
        elif self.path in ("/to-ftp", "/to-file"):
            self.send_response(302)
            self.send_header(
                "Location", "ftp://example.com/x" if self.path == "/to-ftp" else "file:///etc/passwd"
            )
            self.end_headers()
        elif self.path == "/to-photo":
            self.send_response(301)
            self.send_header("Location", "/photo.jpg")
            self.end_headers()
        elif self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(MAX_S3_IMAGE_BYTES + 1))
            self.end_headers()
            chunk = b"\0" * (1 << 20)
            for _ in range(MAX_S3_IMAGE_BYTES // len(chunk)):
                self.wfile.write(chunk)
            self.wfile.write(b"\0")
        elif self.path == "/removed":
            self._send(410, b"gone")
        elif self.path == "/broken":
            self._send(500, b"oops")
        else:
            self._send(404, b"no")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_an_http_source_is_fetched_following_http_redirects(server: str) -> None:
    assert fetch_source(f"{server}/photo.jpg", Settings()) == PHOTO
    assert fetch_source(f"{server}/to-photo", Settings()) == PHOTO


@pytest.mark.parametrize("path", ["/missing.jpg", "/removed"])
def test_a_photo_that_is_no_longer_there_is_gone(server: str, path: str) -> None:
    with pytest.raises(SourceGoneError, match="HTTP 4"):
        fetch_source(f"{server}{path}", Settings())


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/broken", "HTTP 500"),
        ("/to-ftp", "non-http"),
        ("/to-file", "HTTP 302"),  # urllib itself refuses a redirect to file://
        ("/huge", "image_too_large"),
    ],
)
def test_what_cannot_be_fetched_is_unreadable_with_its_reason(server: str, path: str, reason: str) -> None:
    with pytest.raises(SourceUnreadableError, match=reason):
        fetch_source(f"{server}{path}", Settings())


def test_a_refused_connection_and_an_unknown_scheme_are_unreadable() -> None:
    with pytest.raises(SourceUnreadableError, match="cannot fetch"):
        fetch_source("http://127.0.0.1:1/photo.jpg", Settings())
    with pytest.raises(SourceUnreadableError, match="only s3:// and http"):
        fetch_source("ftp://example.com/photo.jpg", Settings())
