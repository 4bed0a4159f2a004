"""The Lambda entry: recognise the event kind, dispatch, log, never leak a traceback."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from frs import aws
from frs.api.direct import dispatch
from frs.api.guard import Guard
from frs.api.http import build_resolvers
from frs.cctv.events import is_s3_event
from frs.cctv.processor import CctvProcessor, RetryBatch
from frs.config import Settings
from frs.errors import FRSError
from frs.indexing.worker import IndexWorker, is_sqs_event
from frs.service import FaceService

logger = Logger(service="frs")


def event_kind(event: Any) -> str:
    """'rest' (API Gateway v1), 'http' (HTTP API v2 or Function URL), 's3' (S3 notifications and EventBridge
    S3 events: camera objects), 'sqs' (index batches), 'direct', or 'invalid'."""
    if not isinstance(event, dict):
        return "invalid"
    if is_sqs_event(event):
        return "sqs"
    if is_s3_event(event):
        return "s3"
    context = event.get("requestContext")
    if isinstance(context, dict):
        if event.get("version") == "2.0" or isinstance(context.get("http"), dict):
            return "http"
        if "httpMethod" in event:
            return "rest"
    if "httpMethod" in event and "path" in event:
        return "rest"
    return "direct"


def _route_of(event: dict[str, Any]) -> str:
    method = event.get("httpMethod") or event.get("requestContext", {}).get("http", {}).get("method")
    return f"{method} {event.get('rawPath') or event.get('path')}"


class Application:
    """One instance per process: the service (models, galleries) is shared by every invocation."""

    def __init__(self, service: FaceService) -> None:
        self.service = service
        # Built now: a malformed FRS_ACCESS_POLICY (or one FRS cannot read) fails INIT, never runs open.
        self.guard = Guard(service)
        self.rest, self.http = build_resolvers(self.guard)
        self._cold = True
        # Built now when configured, so a bad FRS_RESULTS_URI / FRS_CAMERAS fails INIT like any setting.
        self._cctv = CctvProcessor.from_settings(service) if service.settings.results_uri else None
        self._index = IndexWorker(service)

    @classmethod
    def loaded(cls, settings: Settings) -> Application:
        """The application for ``settings`` with its models already loaded: what ``handler.py`` builds during
        Lambda INIT and ``frs serve`` before it listens, so a pack that cannot load fails there, not later."""
        service = FaceService(settings)
        service.analyzer  # noqa: B018 - load the models now, not on the first request
        aws.prepare(settings)
        return cls(service)

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        kind = event_kind(event)
        cold, self._cold = self._cold, False
        request_id = getattr(context, "aws_request_id", None)
        if kind in ("rest", "http"):
            resolver = self.rest if kind == "rest" else self.http
            response: dict[str, Any] = resolver.resolve(event, context)
            self._log(
                kind,
                cold,
                request_id,
                started,
                status=response.get("statusCode"),
                route=_route_of(event),
            )
            return response
        if kind == "s3":
            return self._camera_event(event, context, cold, request_id, started)
        if kind == "sqs":
            answer = self._index.handle(event)
            self._log(
                "sqs",
                cold,
                request_id,
                started,
                records=len(event["Records"]),
                failed=len(answer["batchItemFailures"]),
            )
            return answer
        try:
            if kind == "invalid":
                raise FRSError("bad_request", "the event must be a JSON object with an 'action'")
            result = {"ok": True, **dispatch(self.service, event, self.guard, request_id)}
        except FRSError as error:
            result = {"ok": False, **error.to_dict()}
        except Exception:
            logger.exception("unhandled error")
            result = {
                "ok": False,
                **FRSError("internal_error", "internal error; see the function's logs").to_dict(),
            }
        self._log(
            kind,
            cold,
            request_id,
            started,
            action=event.get("action") if isinstance(event, dict) else None,
            gallery=event.get("gallery", "default") if isinstance(event, dict) else None,
            ok=result["ok"],
            faces=len(result.get("faces", [])) if result["ok"] else None,
            error=result.get("error", {}).get("code"),
        )
        return result

    def _camera_event(
        self, event: dict[str, Any], context: Any, cold: bool, request_id: str | None, started: float
    ) -> dict[str, Any]:
        """Camera objects from S3. Raises (so Lambda retries the event) when a record hit an infrastructure
        problem or FRS is misconfigured for them; records' own problems are in the summary."""
        try:
            if self._cctv is None:
                self._cctv = CctvProcessor.from_settings(self.service)
            remaining = getattr(context, "get_remaining_time_in_millis", None)
            summary = self._cctv.handle(event, remaining_ms=remaining() if callable(remaining) else None)
        except RetryBatch as retry:
            self._log_records(retry.summary)
            self._log(
                "s3",
                cold,
                request_id,
                started,
                ok=False,
                error="retry",
                records=len(retry.summary["records"]),
            )
            raise
        except FRSError as error:
            self._log("s3", cold, request_id, started, ok=False, error=error.code, detail=error.message)
            raise
        self._log_records(summary)
        self._log("s3", cold, request_id, started, ok=True, records=len(summary["records"]))
        return summary

    def _log_records(self, summary: dict[str, Any]) -> None:
        for record in summary["records"]:
            level = logger.info if record["status"] in ("ok", "skipped") else logger.warning
            level("camera object", extra={k: v for k, v in record.items() if k != "alerts"})

    def _log(self, kind: str, cold: bool, request_id: str | None, started: float, **fields: Any) -> None:
        # Metadata only: never image bytes, embeddings or request bodies.
        logger.info(
            "request",
            extra={
                "kind": kind,
                "cold_start": cold,
                "request_id": request_id,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                **fields,
            },
        )
