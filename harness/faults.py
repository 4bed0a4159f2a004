"""An HTTP proxy on 127.0.0.1 between FRS's S3 client and the test S3 server that injects storage faults.

Point ``AWS_ENDPOINT_URL`` at :attr:`FaultProxy.url`; every request is forwarded to the real server unless a
rule added with :meth:`FaultProxy.inject` picks it. Faults (``FAULT_KINDS``):

* ``slowdown`` / ``internal_error`` / ``service_unavailable``: answer 503 SlowDown / 500 InternalError /
  503 ServiceUnavailable with an S3 XML error body; the request never reaches the server.
* ``stall``: read the request, never forward it, answer nothing for ``delay`` seconds, then hang up (the
  client hits its read timeout; the change did not happen).
* ``stall_after_forward``: forward the request (the server applies it), then hold the answer for ``delay``
  seconds and hang up (a timeout whose change *did* happen: the lost-answer case).
* ``reset``: read half of the request body (or only the head) and reset the connection (TCP RST).
* ``reset_after_forward``: forward the request, send the answer's head and half of its body (half of the
  head when there is no body), then reset the connection.

A rule applies to the next ``times`` matching requests (``None``: until :meth:`FaultProxy.clear`), optionally
only to one HTTP method, and to a ``fraction`` of them drawn from a seeded random generator (deterministic for
a given order of requests). Every request is recorded (:attr:`FaultProxy.log`) with the fault it got and
whether it reached the server, so tests can check that the faults really happened.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

ERROR_FAULTS: dict[str, tuple[int, str, str]] = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal_error": (500, "InternalError", "We encountered an internal error. Please try again."),
    "service_unavailable": (503, "ServiceUnavailable", "Service is unable to handle request."),
}
FORWARDING_FAULTS = ("stall_after_forward", "reset_after_forward")
FAULT_KINDS = (*ERROR_FAULTS, "stall", "reset", *FORWARDING_FAULTS)

_MAX_HEAD = 64 * 1024
_IDLE_SECONDS = 120.0  # an idle client connection is kept this long (boto3 pools them)


@dataclass
class FaultRule:
    """Inject ``kind`` into matching requests; ``times=None`` means until cleared."""

    kind: str
    times: int | None = 1
    method: str | None = None
    fraction: float = 1.0
    delay: float = 2.0


@dataclass(frozen=True)
class ProxiedRequest:
    """One request as the proxy saw it."""

    method: str
    path: str
    fault: str | None
    forwarded: bool  # the request reached the S3 server
    upstream_status: int | None


class _Request:
    """A parsed request head plus its body, read from the client connection."""

    def __init__(self, method: str, target: str, headers: list[tuple[str, str]]) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server
    timeout = _IDLE_SECONDS

    def handle(self) -> None:
        proxy = self.server.proxy
        proxy._track(self.connection)
        try:
            while not proxy._stopping.is_set():
                request = self._read_head()
                if request is None:
                    return
                if not self._serve(proxy, request):
                    return
        except (OSError, ValueError, http.client.HTTPException):
            return
        finally:
            proxy._untrack(self.connection)

    def _serve(self, proxy: FaultProxy, request: _Request) -> bool:
        """Answer one request; False when the connection must be dropped."""
        fault = proxy._choose(request.method)
        expects_continue = (request.header("expect") or "").lower() == "100-continue"
        path = urlsplit(request.target).path
        if fault is not None and fault.kind in ERROR_FAULTS:
            if not expects_continue:
                self._read_body(request)
            proxy._record(ProxiedRequest(request.method, path, fault.kind, False, None))
            self._send_error(fault.kind, close=expects_continue)
            return not expects_continue
        if expects_continue:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if fault is not None and fault.kind == "reset":
            self._read_body(request, limit=self._body_length(request) // 2)
            proxy._record(ProxiedRequest(request.method, path, "reset", False, None))
            self._reset()
            return False
        self._read_body(request)
        if fault is not None and fault.kind == "stall":
            proxy._record(ProxiedRequest(request.method, path, "stall", False, None))
            proxy._stopping.wait(fault.delay)
            return False
        status, reason, headers, data = proxy._forward(request)
        kind = fault.kind if fault is not None else None
        proxy._record(ProxiedRequest(request.method, path, kind, True, status))
        head, body = _render_response(request.method, status, reason, headers, data)
        if kind == "stall_after_forward":
            assert fault is not None
            proxy._stopping.wait(fault.delay)
            return False
        if kind == "reset_after_forward":
            self.wfile.write(head + body[: len(body) // 2] if body else head[: len(head) // 2])
            self._reset()
            return False
        self.wfile.write(head + body)
        return True

    def _read_head(self) -> _Request | None:
        line = self.rfile.readline(_MAX_HEAD)
        while line in (b"\r\n", b"\n"):  # tolerate stray blank lines between requests
            line = self.rfile.readline(_MAX_HEAD)
        if not line:
            return None
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: list[tuple[str, str]] = []
        while True:
            raw = self.rfile.readline(_MAX_HEAD)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        return _Request(method, target, headers)

    @staticmethod
    def _body_length(request: _Request) -> int:
        return int(request.header("content-length") or 0)

    def _read_body(self, request: _Request, limit: int | None = None) -> None:
        if (request.header("transfer-encoding") or "").lower() == "chunked":
            request.body = self._read_chunked()
            return
        length = self._body_length(request)
        request.body = self.rfile.read(length if limit is None else min(limit, length))

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline(_MAX_HEAD).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(_MAX_HEAD) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(_MAX_HEAD)

    def _send_error(self, kind: str, *, close: bool) -> None:
        status, code, message = ERROR_FAULTS[kind]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            "<RequestId>FAULTPROXY0000001</RequestId><HostId>fault-proxy</HostId></Error>"
        ).encode()
        reason = http.client.responses.get(status, "Error")
        head = [
            f"HTTP/1.1 {status} {reason}",
            "Content-Type: application/xml",
            f"Content-Length: {len(body)}",
        ]
        if close:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a TCP RST instead of an orderly FIN.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def _render_response(
    method: str, status: int, reason: str, headers: list[tuple[str, str]], data: bytes
) -> tuple[bytes, bytes]:
    """(head, body) of the upstream answer, re-framed with a Content-Length (the proxy has read it whole)."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    bodiless = method == "HEAD" or status in (204, 304)
    for name, value in headers:
        lowered = name.lower()
        if lowered in ("transfer-encoding", "connection", "keep-alive"):
            continue
        if lowered == "content-length" and not bodiless:
            continue
        lines.append(f"{name}: {value}")
    if not bodiless:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), b"" if bodiless else data


class FaultProxy:
    """A fault-injecting HTTP proxy in front of ``target_url``; use as a context manager or start/stop."""

    def __init__(self, target_url: str, *, seed: int = 0) -> None:
        target = urlsplit(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._rules: list[FaultRule] = []
        self._log: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the proxy first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        """Listen on a free port of 127.0.0.1."""
        self._stopping.clear()
        self._server = _Server(self)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening, end every stalled fault and cut every open connection."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ----- what to inject ----------------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        times: int | None = 1,
        method: str | None = None,
        fraction: float = 1.0,
        delay: float = 2.0,
    ) -> None:
        """Inject ``kind`` into the next ``times`` matching requests (``None``: until :meth:`clear`)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        if not 0.0 < fraction <= 1.0:
            raise ValueError("fraction must be in (0, 1]")
        with self._lock:
            self._rules.append(FaultRule(kind, times, method.upper() if method else None, fraction, delay))

    def clear(self) -> None:
        """No more faults: every later request is forwarded."""
        with self._lock:
            self._rules.clear()

    # ----- what happened -----------------------------------------------------------------------------------

    @property
    def log(self) -> list[ProxiedRequest]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def count(
        self, *, method: str | None = None, fault: str | None = None, forwarded: bool | None = None
    ) -> int:
        """How many logged requests match all the given filters."""
        return sum(
            1
            for r in self.log
            if (method is None or r.method == method)
            and (fault is None or r.fault == fault)
            and (forwarded is None or r.forwarded == forwarded)
        )

    def wait_for(self, predicate: Callable[[list[ProxiedRequest]], bool], timeout: float = 30.0) -> None:
        """Block until ``predicate(log)`` holds (e.g. "a PUT was forwarded and is being held")."""
        deadline = time.monotonic() + timeout
        while not predicate(self.log):
            if time.monotonic() > deadline:
                raise TimeoutError(f"proxy log never matched; log: {self.log}")
            time.sleep(0.01)

    # ----- used by the handler threads ---------------------------------------------------------------------

    def _choose(self, method: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method is not None and rule.method != method:
                    continue
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.fraction < 1.0 and self._random.random() >= rule.fraction:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return FaultRule(rule.kind, None, rule.method, rule.fraction, rule.delay)
            return None

    def _record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self._log.append(request)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _forward(self, request: _Request) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request to the S3 server on a fresh connection and read the whole answer."""
        upstream = http.client.HTTPConnection(*self._target, timeout=60)
        try:
            upstream.putrequest(request.method, request.target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers:
                if name.lower() not in ("expect", "transfer-encoding", "content-length", "connection"):
                    upstream.putheader(name, value)
            if request.body or request.method in ("PUT", "POST"):
                upstream.putheader("Content-Length", str(len(request.body)))
            upstream.putheader("Connection", "close")
            upstream.endheaders(request.body or None)
            response = upstream.getresponse()
            data = response.read()
            return response.status, response.reason, response.getheaders(), data
        finally:
            upstream.close()


@contextlib.contextmanager
def fault_proxy(target_url: str, *, seed: int = 0) -> Iterator[FaultProxy]:
    """A started :class:`FaultProxy` for the duration of a ``with`` block."""
    proxy = FaultProxy(target_url, seed=seed).start()
    try:
        yield proxy
    finally:
        proxy.stop()
