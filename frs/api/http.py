"""API Gateway (REST v1, HTTP v2) and Function URL events, routed with aws-lambda-powertools.

The routes come from ``frs.api.routes``; this module only adapts powertools' request objects to
``parse_http_input`` and renders results (200, or 201 for a created face) and errors as JSON responses.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
)
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from frs.access.principal import principal_of
from frs.api.guard import Caller, Guard
from frs.api.openapi import openapi_document, swagger_html
from frs.api.requests import parse_http_input, raw_body
from frs.api.routes import ROUTES, Route
from frs.errors import FRSError

logger = logging.getLogger("frs.api")


def json_response(status: int, body: Any) -> Response[str]:
    return Response(
        status_code=status, content_type="application/json", body=json.dumps(body, ensure_ascii=False)
    )


def error_response(error: FRSError) -> Response[str]:
    return json_response(error.status, error.to_dict())


_EXTRA_ROUTES = (("GET", "/openapi.json"), ("GET", "/docs"))


def allowed_methods(path: str) -> list[str]:
    """Methods some route accepts on ``path`` (for 405 answers)."""
    found = set()
    for method, template in [*((r.method, r.path) for r in ROUTES), *_EXTRA_ROUTES]:
        pattern = (
            "^"
            + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(template).replace("\\{", "{").replace("\\}", "}"))
            + "$"
        )
        if re.match(pattern, path):
            found.add(method)
    return sorted(found)


def _rule(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")


def _caller(router: Router, surface: str) -> Caller:
    raw = router.current_event.raw_event
    context = raw.get("requestContext") if isinstance(raw.get("requestContext"), dict) else {}
    lambda_context = router.lambda_context
    request_id = getattr(lambda_context, "aws_request_id", None) or (context or {}).get("requestId")
    return Caller(principal_of(raw), request_id, surface)


def _endpoint(router: Router, guard: Guard, route: Route, surface: str) -> Callable[..., Response[str]]:
    service = guard.service

    def handle(**path: str) -> Response[str]:
        event = router.current_event
        # REST v1 keeps the client's header case; HTTP v2 lower-cases it.
        content_type = next(
            (v for k, v in (event.headers or {}).items() if k.lower() == "content-type"), None
        )
        body = raw_body(event.body, bool(event.is_base64_encoded))
        query = {k: v for k, v in (event.query_string_parameters or {}).items() if isinstance(v, str)}
        request = parse_http_input(body, content_type, query, service.settings, images=route.image_names)
        caller = _caller(router, surface)
        status, result = route.answer(
            service, path, request, lambda op, fields, execute: guard.run(op.name, fields, caller, execute)
        )
        return json_response(status, result)

    handle.__name__ = route.operation_id
    return handle


def build_router(guard: Guard, surface: str) -> Router:
    router = Router()  # type: ignore[no-untyped-call]
    for route in ROUTES:
        router.route(_rule(route.path), route.method)(_endpoint(router, guard, route, surface))
    router.route("/openapi.json", "GET")(lambda: json_response(200, openapi_document()))
    router.route("/docs", "GET")(
        lambda: Response(status_code=200, content_type="text/html; charset=utf-8", body=swagger_html())
    )
    return router


def _configure(resolver: ApiGatewayResolver, guard: Guard, surface: str) -> ApiGatewayResolver:
    resolver.include_router(build_router(guard, surface))

    @resolver.exception_handler(FRSError)  # type: ignore[untyped-decorator]
    def _frs_error(error: FRSError) -> Response[str]:
        return error_response(error)

    @resolver.not_found
    def _no_route(_: NotFoundError) -> Response[str]:
        event = resolver.current_event
        allowed = allowed_methods(event.path)
        if allowed:
            response = error_response(
                FRSError(
                    "method_not_allowed",
                    f"{event.http_method} is not allowed on {event.path}; use {', '.join(allowed)}",
                )
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return error_response(FRSError("not_found", f"no route {event.http_method} {event.path}"))

    @resolver.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        logger.exception("unhandled error")  # the stack goes to the log, never to the caller
        return error_response(FRSError("internal_error", "internal error; see the function's logs"))

    return resolver


def build_resolvers(guard: Guard) -> tuple[ApiGatewayResolver, ApiGatewayResolver]:
    """(REST v1 resolver, HTTP v2 / Function URL resolver), both running operations through ``guard``."""
    return (
        _configure(APIGatewayRestResolver(), guard, "rest"),
        _configure(APIGatewayHttpResolver(), guard, "http"),
    )
