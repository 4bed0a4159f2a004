"""What stands between a caller and an operation: the access policy, then the audit trail.

Every surface runs operations through :meth:`Guard.run`: HTTP requests with the principal API Gateway
authenticated, direct invocations and the scheduled purge as trusted callers (README, "Privacy and access").

The audit rule, for every operation on a gallery (its access class is read, write or delete):

* a change (write, delete) is recorded *before* the gallery is touched: an ``intent`` record naming the
  caller, the gallery and whom the request names. If it cannot be stored the request fails with
  ``audit_unavailable`` and the gallery is unchanged: no change without a record first;
* every operation, refused and failed ones included, then writes exactly one ``decision`` record with its
  outcome (what it named, its error code, the operating point) before its answer returns. If that cannot be
  stored the answer is withheld (``audit_unavailable``): a read never answers unrecorded; a change that was
  made stays made, and its intent record (same ``request_id``) names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from frs.access.classes import access_class
from frs.access.principal import Principal
from frs.api.operations import GALLERY
from frs.audit.record import answered, record, requested
from frs.audit.trail import AuditTrail
from frs.errors import FRSError
from frs.service import FaceService


@dataclass(frozen=True)
class Caller:
    principal: Principal
    request_id: str | None
    surface: str  # "http", "rest", "direct", "cli"


class Guard:
    def __init__(self, service: FaceService, *, trusted_only: bool = False, log: bool = True) -> None:
        """``trusted_only``: a guard for callers FRS trusts (the CLI, run by whoever holds the storage's
        credentials), which never reads the access policy and refuses any other caller."""
        self.service = service
        self.trusted_only = trusted_only
        self.policy = None if trusted_only else service.access_policy
        self.trail = AuditTrail(service.settings, log=log)

    def run(
        self,
        operation: str,
        fields: Mapping[str, Any],
        caller: Caller,
        execute: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """``execute()`` (the operation with its arguments) if ``caller`` may run ``operation`` on the
        gallery ``fields`` name (``forbidden`` otherwise, before anything is read), recorded as above."""
        access = access_class(operation)
        if self.trusted_only and caller.principal.trusted is None:
            raise FRSError("forbidden", "this guard only runs trusted callers")
        if access is None:
            return execute()
        identities, face_ids = requested(fields)
        base = {
            "request_id": caller.request_id or str(uuid.uuid4()),
            "surface": caller.surface,
            "principal": caller.principal.label,
            "gallery": fields.get("gallery", GALLERY.default),
            "operation": operation,
            "access": access,
        }
        try:
            base["gallery"] = GALLERY.read(fields)
            if self.policy is not None and caller.principal.trusted is None:
                self.policy.check(caller.principal, base["gallery"], access)
        except FRSError as error:
            self._decision(base, error, identities, face_ids)
            raise
        if access != "read":
            self.trail.write([record(base, "intent", identities=identities, face_ids=face_ids)])
        try:
            result = execute()
        except FRSError as error:
            self._decision(base, error, identities, face_ids)
            raise
        except Exception:
            self._decision(base, FRSError("internal_error", "internal error"), identities, face_ids)
            raise
        self.trail.write([record(base, "decision", outcome="ok", **answered(operation, result))])
        return result

    def _decision(
        self, base: dict[str, Any], error: FRSError, identities: list[str], face_ids: list[str]
    ) -> None:
        outcome = "forbidden" if error.code == "forbidden" else "error"
        self.trail.write(
            [
                record(
                    base,
                    "decision",
                    outcome=outcome,
                    error=error.code,
                    identities=identities,
                    face_ids=face_ids,
                )
            ]
        )
