"""``frs serve``: a local HTTP server that turns each request into an API Gateway v2 event for the same
:class:`~frs.api.app.Application` the Lambda handler runs, in-process, like ``sam local start-api``.

The application is built from the CLI's own settings (its options and the environment). Requests are handled
one at a time, as one Lambda instance would; the server binds 127.0.0.1 by default.

For development only, a request may name its caller in the ``X-FRS-Principal`` header, which this server
turns into the request context API Gateway would have built: ``arn:...`` becomes an IAM caller
(``authorizer.iam.userArn``), ``jwt:<claim>=<value>[,<claim>=<value>...]`` a JWT caller (``scope`` values,
space-separated, also become its scopes). Anyone who can reach the port may claim any principal: it
exercises an ``FRS_ACCESS_POLICY`` locally, it protects nothing. Deployed, FRS never reads that header.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from frs.api.images import MAX_INLINE_BYTES

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
PRINCIPAL_HEADER = "x-frs-principal"


def dev_authorizer(value: str) -> dict[str, Any] | None:
    """The ``requestContext.authorizer`` an ``X-FRS-Principal`` value stands for (None: not understood)."""
    value = value.strip()
    if value.startswith("arn:"):
        return {"iam": {"userArn": value}}
    if value.startswith("jwt:"):
        claims: dict[str, str] = {}
        for item in value[len("jwt:") :].split(","):
            name, sep, claim = item.partition("=")
            if not sep or not name.strip():
                return None
            claims[name.strip()] = claim.strip()
        return {"jwt": {"claims": claims, "scopes": claims.get("scope", "").split() or None}}
    return None


def http_v2_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    url = urlsplit(target)
    headers = {k.lower(): v for k, v in headers.items()}
    claimed = headers.pop(PRINCIPAL_HEADER, None)
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = (
            f"{query[key]},{value}" if key in query else value
        )  # API Gateway joins repeats with commas
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": headers,
        "requestContext": {
            "accountId": "local",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": bool(body),
    }
    authorizer = dev_authorizer(claimed) if claimed else None
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = base64.b64encode(body).decode("ascii")
    return event


class _Context:
    function_name = "frs-local"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:frs-local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def make_server(host: str, port: int, lambda_handler: LambdaHandler) -> ThreadingHTTPServer:
    one_at_a_time = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        server_version = "frs-local"
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_INLINE_BYTES + 1024 * 1024:
                # Like API Gateway: refuse before reading an oversized body, then drop the connection.
                self._reply(
                    413,
                    {"content-type": "application/json"},
                    b'{"error": {"code": "payload_too_large", "message": "the request body is larger '
                    b'than 6 MB; send large images as an S3 reference: {\\"s3\\": {...}}"}}',
                )
                self.close_connection = True
                return
            body = self.rfile.read(length) if length else b""
            event = http_v2_event(
                self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
            )
            with one_at_a_time:
                response = lambda_handler(event, _Context())
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
            headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
            for key, values in (response.get("multiValueHeaders") or {}).items():
                headers[key.lower()] = ", ".join(str(v) for v in values)
            self._reply(int(response.get("statusCode", 200)), headers, data)

        def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # Every method (GET, TRACE, QUERY, ...) reaches the handler, which answers 404 / 405 itself.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return ThreadingHTTPServer((host, port), Handler)


def serve(lambda_handler: LambdaHandler, host: str = "127.0.0.1", port: int = 3000) -> None:
    """Serve ``lambda_handler`` (an :class:`~frs.api.app.Application`) over HTTP until interrupted."""
    server = make_server(host, port, lambda_handler)
    print(f"FRS listening on http://{host}:{port}  (Swagger UI: http://{host}:{port}/docs)", file=sys.stderr)
    print(
        "Development server: a request's X-FRS-Principal header (arn:... or jwt:claim=value) is taken as its "
        "authenticated caller, so FRS_ACCESS_POLICY can be tried locally; it protects nothing.",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
