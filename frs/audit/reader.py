"""Reading the audit trail back: every record under ``FRS_AUDIT_URI``, oldest first, filtered.

Objects are keyed by day (``YYYY/MM/DD/...``), so ``since`` / ``until`` only list the days they cover.
Used by ``frs audit`` and by ``export_identity`` (the records naming one person).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from frs import aws
from frs.cctv.objects import s3_error, split_s3_uri
from frs.config import Settings
from frs.errors import FRSError


@dataclass(frozen=True)
class AuditFilter:
    gallery: str | None = None
    identity: str | None = None
    face_id: str | None = None
    principal: str | None = None  # substring of the principal's label
    operation: str | None = None
    outcome: str | None = None
    since: str | None = None  # ISO 8601 time (or date): records at or after it
    until: str | None = None  # records before it

    def keeps(self, item: dict[str, Any]) -> bool:
        time = str(item.get("time", ""))
        return (
            (self.gallery is None or item.get("gallery") == self.gallery)
            and (self.identity is None or self.identity in (item.get("identities") or []))
            and (self.face_id is None or self.face_id in (item.get("face_ids") or []))
            and (self.principal is None or self.principal in str(item.get("principal", "")))
            and (self.operation is None or item.get("operation") == self.operation)
            and (self.outcome is None or item.get("outcome") == self.outcome)
            and (self.since is None or time >= self.since)
            and (self.until is None or time < self.until)
        )

    def day_prefixes(self) -> list[str] | None:
        """The day folders to list (None: all of them); at most a year of days, else everything."""
        if self.since is None:
            return None
        try:
            first = date.fromisoformat(self.since[:10])
            last = date.fromisoformat(self.until[:10]) if self.until else date.today() + timedelta(days=1)
        except ValueError:
            raise FRSError("bad_request", "since / until must be ISO 8601 dates or times") from None
        if (last - first).days > 366 or last < first:
            return None
        return [(first + timedelta(days=n)).strftime("%Y/%m/%d/") for n in range((last - first).days + 1)]


def _local_keys(root: Path, prefixes: list[str] | None) -> Iterator[tuple[str, bytes]]:
    folders = [root / p for p in prefixes] if prefixes else [root]
    for folder in folders:
        if folder.is_dir():
            for path in sorted(folder.rglob("*.jsonl")):
                yield str(path.relative_to(root)), path.read_bytes()


def _s3_keys(uri: str, settings: Settings, prefixes: list[str] | None) -> Iterator[tuple[str, bytes]]:
    bucket, prefix = split_s3_uri(uri)
    base = f"{prefix}/" if prefix else ""
    client = aws.client("s3", settings)
    try:
        for day in prefixes or [""]:
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=base + day):
                for entry in page.get("Contents", []):
                    if entry["Key"].endswith(".jsonl"):
                        body = client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
                        yield entry["Key"][len(base) :], body
    except Exception as exc:  # botocore's errors: one documented code
        raise s3_error(exc, "read the audit trail at", uri) from exc


def read_records(settings: Settings, where: AuditFilter | None = None) -> list[dict[str, Any]]:
    """Every stored record ``where`` keeps, in time order."""
    uri = settings.audit_uri
    if not uri:
        raise FRSError("bad_request", "FRS_AUDIT_URI is not set: there is no audit trail to read")
    where = where or AuditFilter()
    prefixes = where.day_prefixes()
    if uri.startswith("s3://"):
        objects = _s3_keys(uri, settings, prefixes)
    else:
        root = Path(unquote(urlparse(uri).path) if uri.startswith("file://") else uri)
        objects = _local_keys(root.expanduser(), prefixes)
    found = []
    for _, data in objects:
        for line in data.splitlines():
            if line.strip():
                item = json.loads(line)
                if where.keeps(item):
                    found.append(item)
    return sorted(found, key=lambda r: (str(r.get("time", "")), r.get("phase") != "intent"))
