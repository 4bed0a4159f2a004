"""Direct invocations (Lambda Invoke, ``sam local invoke``, Step Functions): ``{"action": ..., ...}``.

The response is always a JSON-serialisable dict: ``{"ok": true, ...result}`` or
``{"ok": false, "error": {"code", "message"}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from frs.api.images import image_from_reference
from frs.api.params import (
    optional_bool,
    optional_float,
    optional_int,
    optional_object,
    optional_str,
    required_str,
)
from frs.config import Settings
from frs.errors import FRSError
from frs.service import FaceService

Action = Callable[[FaceService, dict[str, Any]], dict[str, Any]]


def _gallery(event: dict[str, Any]) -> str:
    return optional_str(event, "gallery") or "default"


def _image(event: dict[str, Any], settings: Settings, field: str = "image") -> bytes:
    if event.get(field) is None:
        raise FRSError("bad_request", f'\'{field}\' is required: {{"base64": ...}} or {{"s3": {{...}}}}')
    return image_from_reference(event[field], field, settings)


def _verify(service: FaceService, event: dict[str, Any]) -> dict[str, Any]:
    threshold = optional_float(event, "threshold")
    if event.get("image_b") is not None:
        return service.verify_images(
            _image(event, service.settings), _image(event, service.settings, "image_b"), threshold
        )
    if event.get("name") is not None:
        return service.verify_identity(
            _gallery(event), required_str(event, "name"), _image(event, service.settings), threshold=threshold
        )
    raise FRSError("bad_request", "verify needs 'image' with either 'image_b' or 'name'")


ACTIONS: dict[str, Action] = {
    "health": lambda s, e: {"status": "ok", "pack": s.analyzer.pack.name, "dim": s.analyzer.pack.dim},
    "detect": lambda s, e: s.detect(_image(e, s.settings)),
    "add": lambda s, e: s.add(
        _gallery(e),
        required_str(e, "name"),
        _image(e, s.settings),
        metadata=optional_object(e, "metadata"),
        largest=optional_bool(e, "largest"),
    ),
    "identify": lambda s, e: s.identify(
        _gallery(e),
        _image(e, s.settings),
        top_k=optional_int(e, "top_k", 5),
        threshold=optional_float(e, "threshold"),
    ),
    "verify": _verify,
    "delete": lambda s, e: s.delete(_gallery(e), required_str(e, "name")),
    "delete_face": lambda s, e: s.delete_face(_gallery(e), required_str(e, "face_id")),
    "list": lambda s, e: s.list_identities(
        _gallery(e),
        prefix=optional_str(e, "prefix"),
        page_size=optional_int(e, "page_size", 100),
        page_token=optional_str(e, "page_token"),
    ),
    "get": lambda s, e: s.get(_gallery(e), required_str(e, "name")),
}


def dispatch(service: FaceService, event: dict[str, Any]) -> dict[str, Any]:
    """Run one direct event; raises FRSError for bad input (the caller renders it)."""
    action = event.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise FRSError("bad_request", f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    return ACTIONS[action](service, event)
