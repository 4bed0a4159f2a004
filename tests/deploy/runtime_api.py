"""A small AWS Lambda Runtime API (version 2018-06-01) on 127.0.0.1, for running a runtime client in tests.

It speaks the part of the protocol a runtime uses: ``GET /runtime/invocation/next`` (blocks until the test
queues an event), ``POST /runtime/invocation/{id}/response``, ``POST /runtime/invocation/{id}/error`` and
``POST /runtime/init/error``. The test calls :meth:`RuntimeApi.invoke` and gets back what the runtime posted.

Facts taken from awslambdaric 4.2.2 (its bundled aws-lambda-cpp client and ``lambda_runtime_client.py``):
the only header ``next`` must carry is ``Lambda-Runtime-Aws-Request-Id``; the deadline, function ARN and
trace id headers feed the Lambda context; results are POSTed with a Content-Length and a 100 ms client
timeout, so we answer at once; init errors come from Python's ``http.client`` and must be answered 202.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:frs-test"


@dataclass(frozen=True)
class Posted:
    """A body the runtime POSTed, with its headers (lower-cased names)."""

    kind: str  # "response" | "error" | "init_error"
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Invocation:
    request_id: str
    event: bytes
    deadline_ms: int
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Posted | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real endpoint; every reply has a Content-Length
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", (headers or {}).get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self._reply(HTTPStatus.NOT_FOUND, b'{"errorType":"NotFound"}')
            return
        self.server.api.next_requests += 1
        invocation = self.server.api.wait_for_invocation()
        if invocation is None:  # shutting down: the runtime is about to be killed anyway
            self._reply(HTTPStatus.SERVICE_UNAVAILABLE, b'{"errorType":"ShuttingDown"}')
            return
        self._reply(
            HTTPStatus.OK,
            invocation.event,
            {
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
            },
        )

    def do_POST(self) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path == f"{PREFIX}/init/error":
            self.server.api.record_init_error(Posted("init_error", body, headers))
            self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
            return
        parts = self.path[len(PREFIX) :].strip("/").split("/")
        if self.path.startswith(PREFIX) and len(parts) == 3 and parts[0] == "invocation":
            request_id, kind = parts[1], parts[2]
            if kind in ("response", "error") and self.server.api.complete(
                request_id, Posted(kind, body, headers)
            ):
                self._reply(HTTPStatus.ACCEPTED, b'{"status":"OK"}')
                return
            self._reply(HTTPStatus.BAD_REQUEST, b'{"errorType":"InvalidRequestID"}')
            return
        self._reply(HTTPStatus.NOT_FOUND, b'{"errorType":"NotFound"}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: RuntimeApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The runtime is killed at the end of each test, mid keep-alive: a reset connection is expected there.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeApi:
    """Use as ``with RuntimeApi() as api:``; give ``api.address`` to the runtime as AWS_LAMBDA_RUNTIME_API."""

    def __init__(self) -> None:
        self._pending: queue.Queue[_Invocation] = queue.Queue()
        self._invocations: dict[str, _Invocation] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._init_errors: queue.Queue[Posted] = queue.Queue()
        self.init_errors: list[Posted] = []
        self.next_requests = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> RuntimeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- called by the HTTP handler ----------------------------------------------------------------------

    def wait_for_invocation(self) -> _Invocation | None:
        while not self._stopping.is_set():
            try:
                return self._pending.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def complete(self, request_id: str, posted: Posted) -> bool:
        with self._lock:
            invocation = self._invocations.get(request_id)
            if invocation is None or invocation.done.is_set():
                return False
            invocation.outcome = posted
            invocation.done.set()
            return True

    def record_init_error(self, posted: Posted) -> None:
        self.init_errors.append(posted)
        self._init_errors.put(posted)

    # -- called by the test ------------------------------------------------------------------------------

    def invoke(self, event: Any, timeout: float, raw: bytes | None = None) -> Posted:
        """Queue ``event`` (JSON-encoded, or ``raw`` bytes as is) and wait for the runtime's answer."""
        body = raw if raw is not None else json.dumps(event).encode("utf-8")
        invocation = _Invocation(
            request_id=str(uuid.uuid4()), event=body, deadline_ms=int((time.time() + timeout) * 1000)
        )
        with self._lock:
            self._invocations[invocation.request_id] = invocation
        self._pending.put(invocation)
        deadline = time.monotonic() + timeout
        while not invocation.done.wait(0.2):
            if self.init_errors:  # INIT failed: nothing will ever take this invocation
                raise RuntimeError(f"the runtime reported an INIT error: {self.init_errors[0].body!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no response to invocation {invocation.request_id} within {timeout} s")
        assert invocation.outcome is not None
        return invocation.outcome

    def wait_for_init_error(self, timeout: float) -> Posted:
        try:
            return self._init_errors.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no init error within {timeout} s") from None
