"""Direct invocations (Lambda Invoke, ``sam local invoke``, Step Functions): ``{"action": ..., ...}``.

Every operation of :mod:`frs.api.operations` is an action; the event's members are its parameters and images
are ``{"base64": ...}`` or ``{"s3": {"bucket", "key"}}`` objects. The response is always a
JSON-serialisable dict: ``{"ok": true, ...result}`` or ``{"ok": false, "error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Any

from frs.access.principal import DIRECT
from frs.api.guard import Caller, Guard
from frs.api.images import json_image
from frs.api.operations import BY_NAME
from frs.errors import FRSError
from frs.service import FaceService

ACTIONS = tuple(BY_NAME)
_IMAGE_HINT = '{"base64": ...} or {"s3": {...}}'


def dispatch(
    service: FaceService, event: dict[str, Any], guard: Guard | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """Run one direct event; raises FRSError for bad input (the caller renders it). Direct invocations are
    trusted (IAM lambda:InvokeFunction already decided): the access policy does not apply, the audit does."""
    action = event.get("action")
    if not isinstance(action, str) or action not in BY_NAME:
        raise FRSError("bad_request", f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    operation = BY_NAME[action]

    def execute() -> dict[str, Any]:
        arguments = operation.arguments(
            event, lambda name: json_image(event, name, service.settings), _IMAGE_HINT
        )
        return operation.run(service, arguments)

    if guard is None:
        return execute()
    return guard.run(operation.name, event, Caller(DIRECT, request_id, "direct"), execute)
