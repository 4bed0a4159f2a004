"""The OpenAPI 3 document, generated from the route table, and the Swagger UI page that renders it."""

from __future__ import annotations

import functools
import json
from typing import Any

from frs import __version__
from frs.api.routes import ROUTES, Route
from frs.errors import ERROR_STATUS

_BOX = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 4,
    "maxItems": 4,
    "description": "x1, y1, x2, y2 in original image pixels",
}
_POINT = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_NULLABLE_STR = {"type": ["string", "null"]}
_IMAGE_SIZE = {"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}}}
_CANDIDATE = {"type": "object", "properties": {"name": {"type": "string"}, "similarity": {"type": "number"}}}
_FACE_RECORD = {
    "type": "object",
    "properties": {
        "face_id": {"type": "string"},
        "bbox": _BOX,
        "det_score": {"type": "number"},
        "image_sha256": {"type": "string"},
        "created_at": {"type": "string"},
    },
}
_IDENTITY = {
    "type": "object",
    "required": ["name", "metadata", "face_count"],
    "properties": {
        "name": {"type": "string"},
        "metadata": {"type": "object"},
        "face_count": {"type": "integer"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "faces": {"type": "array", "items": _FACE_RECORD},
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(ERROR_STATUS)},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    },
    "Object": {"type": "object"},
    "AddResult": {
        "type": "object",
        "required": ["face_id", "identity", "face_count", "created"],
        "properties": {
            "face_id": {"type": "string"},
            "identity": {"type": "string"},
            "bbox": _BOX,
            "face_count": {"type": "integer"},
            "created": {"type": "boolean"},
        },
    },
    "Identity": _IDENTITY,
    "IdentityPage": {
        "type": "object",
        "required": ["identities", "next_page_token"],
        "properties": {"identities": {"type": "array", "items": _IDENTITY}, "next_page_token": _NULLABLE_STR},
    },
    "IdentifyResult": {
        "type": "object",
        "required": ["faces"],
        "properties": {
            "image": _IMAGE_SIZE,
            "threshold": {"type": "number"},
            "faces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "bbox": _BOX,
                        "score": {"type": "number"},
                        "identity": _NULLABLE_STR,
                        "similarity": {"type": ["number", "null"]},
                        "candidates": {"type": "array", "items": _CANDIDATE},
                    },
                },
            },
        },
    },
    "VerifyResult": {
        "type": "object",
        "required": ["similarity", "match", "threshold"],
        "properties": {
            "name": {"type": "string"},
            "similarity": {"type": "number"},
            "match": {"type": "boolean"},
            "threshold": {"type": "number"},
        },
    },
    "DetectResult": {
        "type": "object",
        "required": ["image", "faces"],
        "properties": {
            "image": _IMAGE_SIZE,
            "faces": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "bbox": _BOX,
                        "score": {"type": "number"},
                        "landmarks": {"type": "array", "items": _POINT, "minItems": 5, "maxItems": 5},
                    },
                },
            },
        },
    },
}

_QUERY_TYPES: dict[str, dict[str, Any]] = {
    "top_k": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5},
    "threshold": {"type": "number", "minimum": -1, "maximum": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    "page_token": {"type": "string"},
    "prefix": {"type": "string"},
    "name": {"type": "string", "minLength": 1, "maxLength": 128},
    "largest": {"type": "boolean", "default": False},
}

_STATUS_TEXT = {
    400: "Bad input",
    403: "Forbidden S3 reference",
    404: "Unknown identity, face or object",
    409: "Concurrent-write conflict or pack mismatch",
    413: "Body or image too large",
    415: "Unsupported media type",
    422: "No face, or several faces",
    503: "Storage unavailable",
}


def _request_body(kind: str) -> dict[str, Any]:
    second = kind == "verify"
    form: dict[str, Any] = {
        "file": {"type": "string", "format": "binary"},
        "metadata": {"type": "object", "description": "JSON object, at most 4 KiB"},
    }
    json_props: dict[str, Any] = {
        "image_base64": {"type": "string", "format": "byte"},
        "s3": {"type": "object", "properties": {"bucket": {"type": "string"}, "key": {"type": "string"}}},
        "metadata": {"type": "object"},
        "top_k": _QUERY_TYPES["top_k"],
        "threshold": _QUERY_TYPES["threshold"],
        "largest": _QUERY_TYPES["largest"],
    }
    if second:
        form["file_b"] = {"type": "string", "format": "binary"}
        json_props["image_b_base64"] = {"type": "string", "format": "byte"}
        json_props["name"] = _QUERY_TYPES["name"]
    return {
        "required": True,
        "description": "The image: multipart field 'file', a raw image body, or JSON (base64 or an S3 "
        "reference). Inline bodies are limited to 6 MB; use an S3 reference beyond that.",
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": form, "required": ["file"]},
                "encoding": {"metadata": {"contentType": "application/json"}},
            },
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/webp": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object", "properties": json_props}},
        },
    }


def _operation(route: Route) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in (part[1:-1] for part in route.path.split("/") if part.startswith("{"))
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": name == "name" and route.operation_id == "addIdentityLegacy",
            "schema": _QUERY_TYPES[name],
        }
        for name in route.query
    ]
    responses: dict[str, Any] = {
        str(route.status): {
            "description": "Success",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.response}"}}},
        },
    }
    for status in sorted({*route.errors, 400}):
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if route.body:
        operation["requestBody"] = _request_body(route.body)
    return operation


@functools.cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FRS face recognition API",
            "version": __version__,
            "description": "Enrol people from photos, then ask who is in a picture. Errors are "
            '{"error": {"code", "message"}} with the documented codes.',
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }


@functools.cache
def swagger_html() -> str:
    """Swagger UI with its assets inlined from aws-lambda-powertools (no CDN: works offline)."""
    from pathlib import Path

    import aws_lambda_powertools.event_handler.openapi.swagger_ui as assets
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    folder = Path(assets.__file__).parent
    spec = json.dumps(openapi_document()).replace("</", "<\\/")
    js = (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (folder / "swagger-ui.min.css").read_text(encoding="utf-8")
    return generate_swagger_html(spec, js, css, "", None, False)
