"""The OpenAPI 3 document, generated from the routes and the operations' declarations (parameters, exact
request bodies per route) and the answers' schemas, and the Swagger UI page that renders it."""

from __future__ import annotations

import functools
import json
from typing import Any

from frs import __version__
from frs.api.operations import Param
from frs.api.routes import ROUTES, Route
from frs.api.schemas import SCHEMAS

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "object": {"type": "object"},
    "array": {"type": "array", "items": {"type": "string"}},
}
_IMAGE_REFERENCE = {
    "type": "object",
    "description": '{"base64": ...} or {"s3": {"bucket", "key"}}',
    "properties": {
        "base64": {"type": "string", "format": "byte"},
        "s3": {
            "type": "object",
            "required": ["bucket", "key"],
            "properties": {"bucket": {"type": "string"}, "key": {"type": "string"}},
        },
    },
}
_BINARY = {"type": "string", "format": "binary"}

_STATUS_TEXT = {
    400: "Bad input",
    403: "Forbidden S3 reference",
    404: "Unknown identity, face or object",
    409: "Concurrent-write conflict or pack mismatch",
    413: "Body or image too large",
    415: "Unsupported media type",
    422: "No face, several faces, or a face below the quality filter",
    503: "Storage unavailable",
}


def param_schema(param: Param, *, in_json: bool = False) -> dict[str, Any]:
    """A parameter's JSON schema: its type, constraints, default and description, as declared; in a JSON
    body, a parameter whose null clears a value also takes null (a query string cannot carry null)."""
    schema: dict[str, Any] = {**_TYPES[param.type], **param.schema, "description": param.description}
    if in_json and param.null_clears:
        schema["type"] = [schema["type"], "null"]
    if param.default is not None:
        schema["default"] = param.default
    return schema


def _aliases(params: tuple[Param, ...]) -> str:
    older = [f"'{a}'" for p in params for a in p.aliases if a != "s3"]
    return f" Older field names still accepted: {', '.join(older)} (and a top-level 's3')." if older else ""


def _request_body(route: Route) -> dict[str, Any]:
    """Exactly what the route reads from a body: its image(s) and its field parameters."""
    images = route.operation.images
    fields = {p.name: param_schema(p) for p in route.field_params}
    required_fields = [p.name for p in route.field_params if p.required]
    form = {**{p.name: {**_BINARY, "description": p.description} for p in images}, **fields}
    json_props = {**{p.name: {**_IMAGE_REFERENCE, "description": p.description} for p in images}, **fields}
    required = [p.name for p in images if p.required]
    content: dict[str, Any] = {
        "multipart/form-data": {
            "schema": {"type": "object", "properties": form, "required": required + required_fields},
        },
        **{
            media: {"schema": _BINARY}
            for media in ("image/jpeg", "image/png", "image/webp", "image/x-portable-anymap")
        },
        "application/json": {
            "schema": {"type": "object", "properties": json_props, "required": required + required_fields}
        },
    }
    if "metadata" in fields:
        content["multipart/form-data"]["encoding"] = {"metadata": {"contentType": "application/json"}}
    return {
        "required": True,
        "description": "The image: a multipart file field, a raw image body (then the other parameters go in "
        "the query string), or JSON. A parameter may come from the query string or the body, not both. "
        "Inline bodies are limited to 6 MB; use an S3 reference beyond that." + _aliases(images),
        "content": content,
    }


def _operation(route: Route) -> dict[str, Any]:
    operation = route.operation
    by_name = {p.name: p for p in operation.params}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": param_schema(by_name[name])}
        for name in route.path_names
    ]
    # A raw image body carries no fields: every field parameter can come in the query string (objects only
    # in a body).
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": p.required and not operation.images,
            "description": p.description,
            "schema": param_schema(p),
        }
        for p in route.field_params
        if p.type not in ("object", "array")
    ]
    success = {
        "description": "Success",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{operation.response}"}}},
    }
    responses: dict[str, Any] = {"200": success}
    if operation.created_status:
        responses = {
            "201": {**success, "description": "Enrolled (created: true)"},
            "200": {
                **success,
                "description": "This image was already enrolled for this identity (created: false)",
            },
        }
    for status in sorted({*operation.errors, 400}):
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    document: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary or operation.summary,
        "tags": [route.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if operation.images:
        document["requestBody"] = _request_body(route)
    elif any(p.type in ("object", "array") for p in route.field_params):
        document["requestBody"] = _json_body(route)
    return document


def _json_body(route: Route) -> dict[str, Any]:
    """A JSON body for an operation without images that takes an object or a list (metadata, from)."""
    fields = {p.name: param_schema(p, in_json=True) for p in route.field_params}
    required = [p.name for p in route.field_params if p.required]
    return {
        "required": True,
        "description": "A JSON object with the parameters (any not in the query string).",
        "content": {
            "application/json": {"schema": {"type": "object", "properties": fields, "required": required}}
        },
    }


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
