"""A real S3 endpoint for tests: a moto server on 127.0.0.1, or an external one (e.g. MinIO).

Set ``FRS_TEST_S3_ENDPOINT=http://host:port`` (plus ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``) to
run the same tests against another S3 implementation instead of moto.

Also a small TCP proxy, so tests can make S3 unreachable (and reachable again, on the same port) without
touching the server behind it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

EXTERNAL_ENDPOINT_ENV = "FRS_TEST_S3_ENDPOINT"


class _SerializedApp:
    """Runs one request at a time.

    moto checks ``If-Match`` / ``If-None-Match`` on PUT and then stores the object in two separate steps, so
    two concurrent conditional PUTs could both pass the check. Real S3 evaluates the condition atomically;
    serialising requests gives moto the same guarantee (the concurrency under test is in our clients).
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            return list(self._app(environ, start_response))


class AtomicMotoServer(ThreadedMotoServer):
    """moto's threaded server on 127.0.0.1 (by default) and a free port, with atomic conditional writes."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request drowns test output

    def _server_entry(self) -> None:
        app = _SerializedApp(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@dataclass
class S3Endpoint:
    """Where the test S3 lives and how to reach it."""

    url: str
    access_key: str
    secret_key: str
    server: AtomicMotoServer | None = None

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (and so FRS) at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
        }

    def client(self, url: str | None = None) -> Any:
        """A plain boto3 client for test set-up and inspection (not the one FRS uses)."""
        return boto3.client(
            "s3",
            endpoint_url=url or self.url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "max_attempts": 2}),
        )

    def create_bucket(self) -> str:
        """A fresh, empty bucket with a unique name."""
        name = f"frs-test-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def start_s3_endpoint() -> S3Endpoint:
    """The external endpoint from FRS_TEST_S3_ENDPOINT if set, else a fresh moto server."""
    external = os.environ.get(EXTERNAL_ENDPOINT_ENV)
    if external:
        return S3Endpoint(
            url=external.rstrip("/"),
            access_key=os.environ.get("AWS_ACCESS_KEY_ID", "minioadmin"),
            secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "minioadmin"),
        )
    return start_moto_endpoint()


def start_moto_endpoint() -> S3Endpoint:
    """A fresh moto server on 127.0.0.1: every moto service (S3, SNS, SQS, ...) at one address."""
    server = AtomicMotoServer()
    server.start()
    host, port = server.get_host_and_port()
    return S3Endpoint(url=f"http://{host}:{port}", access_key="testing", secret_key="testing", server=server)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``stop`` closes the port and cuts every connection."""

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.extend([client, upstream])
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            a.close()
            b.close()
