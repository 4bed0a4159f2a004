"""AWS Lambda entry point: ``handler.handler``.

Everything expensive happens at import, during Lambda INIT: settings, the model pack and its onnxruntime
sessions. Warm invocations only run the request. A setting that makes no sense (``misconfigured``, naming the
variable) or a pack that cannot be loaded fails INIT loudly (reported to the Runtime API's init/error) instead
of failing every request.
"""

from __future__ import annotations

from typing import Any

from frs.api.app import Application
from frs.config import Settings

app = Application.loaded(Settings.from_env())


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Direct invocations, API Gateway REST/HTTP events, Function URL events, S3 (camera) events and SQS
    (index batch) events."""
    return app(event, context)
