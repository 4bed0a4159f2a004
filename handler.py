"""AWS Lambda entry point: ``handler.handler``.

Everything expensive happens at import, during Lambda INIT: settings, the model pack and its onnxruntime
sessions. Warm invocations only run the request. A pack that cannot be loaded fails INIT loudly (reported to
the Runtime API's init/error) instead of failing every request.
"""

from __future__ import annotations

from typing import Any

from frs.api.app import Application
from frs.config import Settings
from frs.service import FaceService

service = FaceService(Settings.from_env())
service.analyzer  # noqa: B018 - load the models now, in INIT, not on the first request
app = Application(service)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Direct invocations, API Gateway REST/HTTP events and Function URL events."""
    return app(event, context)
