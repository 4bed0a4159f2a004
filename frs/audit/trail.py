"""Where audit records go: JSON Lines objects under ``FRS_AUDIT_URI`` (a directory or ``s3://bucket/prefix``)
and the function's structured log (Powertools Logger).

Each :meth:`AuditTrail.write` stores one new object, ``<YYYY>/<MM>/<DD>/<time>-<random>.jsonl``, created
with ``If-None-Match: *`` (never overwriting a record), holding the records of one invocation or batch, one
per line. It returns only once the object is stored; if it cannot be, the caller gets ``audit_unavailable``
(503), and :mod:`frs.api.guard` makes sure nothing was changed on the strength of a record that was lost.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger

from frs.cctv.objects import ObjectStore, open_store
from frs.config import Settings
from frs.errors import FRSError

logger = Logger(service="frs")

#: Test hook: called with the encoded object just before it is stored (a test can make the write fail there).
before_store: Any = None


def encode(records: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(
        json.dumps(r, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"
        for r in records
    )


def object_key(time_iso: str) -> str:
    day = time_iso[:10].replace("-", "/")
    stamp = time_iso.replace("-", "").replace(":", "")
    return f"{day}/{stamp}-{uuid.uuid4().hex[:12]}.jsonl"


class AuditTrail:
    def __init__(self, settings: Settings, *, log: bool = True) -> None:
        """``log=False``: records go to ``FRS_AUDIT_URI`` only (the CLI, whose stdout is its JSON answer)."""
        self.uri = settings.audit_uri
        self._log = log
        self._store: ObjectStore | None = open_store(self.uri, settings) if self.uri else None

    @property
    def stores(self) -> bool:
        return self._store is not None

    def write(self, records: Sequence[dict[str, Any]]) -> str | None:
        """Store ``records`` as one object (when FRS_AUDIT_URI is set) and log them; where they went."""
        if not records:
            return None
        where = None
        if self._store is not None:
            data = encode(records)
            key = object_key(records[0]["time"])
            try:
                if before_store is not None:
                    before_store(key, data)
                self._store.put(key, data, if_absent=True)
            except FRSError as error:
                logger.error("audit record not stored", extra={"code": error.code, "detail": error.message})
                raise FRSError(
                    "audit_unavailable",
                    "the audit record could not be stored (FRS_AUDIT_URI); nothing was answered",
                ) from error
            except Exception as error:
                logger.exception("audit record not stored")
                raise FRSError(
                    "audit_unavailable",
                    "the audit record could not be stored (FRS_AUDIT_URI); nothing was answered",
                ) from error
            where = self._store.describe(key)
        if self._log:
            for item in records:
                logger.info("audit", extra={"audit": item})
        return where
