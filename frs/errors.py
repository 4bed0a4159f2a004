"""The one error type FRS raises for anything a caller can act on.

Every error has a stable machine-readable ``code`` (documented in README.md), a human ``message`` and the HTTP
status the API answers with. Adapters (CLI, Lambda, HTTP) render it as ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Any

#: code -> HTTP status. The single source of truth for the API's error table.
ERROR_STATUS: dict[str, int] = {
    "bad_request": 400,
    "invalid_image": 400,
    "unsupported_key": 400,
    "invalid_clip": 400,
    "invalid_export": 400,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "pack_mismatch": 409,
    "identity_exists": 409,
    "duplicate_face": 409,
    "transfer_mismatch": 409,
    "payload_too_large": 413,
    "image_too_large": 413,
    "clip_too_long": 413,
    "clip_too_large": 413,
    "unsupported_media_type": 415,
    "no_face": 422,
    "multiple_faces": 422,
    "low_quality": 422,
    "misconfigured": 500,
    "storage_misconfigured": 500,
    "model_unavailable": 500,
    "internal_error": 500,
    "storage_unavailable": 503,
    "alert_unavailable": 503,
    "audit_unavailable": 503,
    "insufficient_storage": 507,
}


class FRSError(Exception):
    """An error with a documented code; safe to show to the caller."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f"undocumented error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}

    def __repr__(self) -> str:
        return f"FRSError({self.code!r}, {self.message!r})"
