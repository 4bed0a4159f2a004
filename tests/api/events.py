"""Builders for the Lambda events FRS receives: API Gateway REST (v1) and HTTP API / Function URL (v2)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from urllib3 import encode_multipart_formdata


def multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """(body, content type) for a multipart/form-data request; bytes values become file parts."""
    encoded = {
        name: ("upload.jpg", value, "image/jpeg") if isinstance(value, bytes) else value
        for name, value in fields.items()
    }
    return encode_multipart_formdata(encoded)


def json_body(value: Any) -> tuple[bytes, str]:
    return json.dumps(value).encode(), "application/json"


def v2_event(
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = None,
    query: dict[str, str] | None = None,
    base64_body: bool = True,
) -> dict[str, Any]:
    headers = {"content-type": content_type} if content_type else {}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "tests",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": base64_body and bool(body),
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    return event


def v1_event(
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = None,
    query: dict[str, str] | None = None,
    base64_body: bool = True,
) -> dict[str, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "httpMethod": method,
            "path": f"/prod{path}",
            "resourcePath": path,
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": (base64.b64encode(body).decode() if base64_body else body.decode()) if body else None,
        "isBase64Encoded": base64_body and bool(body),
    }


def response_json(response: dict[str, Any]) -> Any:
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)
