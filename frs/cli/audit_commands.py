"""``frs audit``: list the audit trail at ``FRS_AUDIT_URI`` (or ``--audit-uri``), filtered."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from frs.audit.reader import AuditFilter, read_records
from frs.service import FaceService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser(
        "audit",
        help="list audit records (who read or changed which gallery, whom it named)",
        description="Every audit record under FRS_AUDIT_URI (a directory or s3://bucket/prefix), oldest "
        'first, as {"records": [...], "count"}; the options keep only the records matching all of them. '
        "Camera decisions are recorded in their result documents (FRS_RESULTS_URI), not here.",
    )
    audit.add_argument("--audit-uri", help="where the records are (default: FRS_AUDIT_URI)")
    audit.add_argument("--identity", help="records naming this identity")
    audit.add_argument("--face-id", help="records naming this face id")
    audit.add_argument("--in-gallery", dest="in_gallery", help="records about this gallery")
    audit.add_argument("--principal", help="records whose caller's name contains this")
    audit.add_argument("--operation", help="records of this operation (add, identify, delete, purge...)")
    audit.add_argument("--outcome", choices=("ok", "error", "forbidden"), help="records with this outcome")
    audit.add_argument("--since", help="records at or after this ISO 8601 time or date")
    audit.add_argument("--until", help="records before this ISO 8601 time or date")
    audit.set_defaults(run=_audit)


def _audit(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    settings = service.settings
    if args.audit_uri:
        settings = dataclasses.replace(settings, audit_uri=args.audit_uri)
    where = AuditFilter(
        gallery=args.in_gallery,
        identity=args.identity,
        face_id=args.face_id,
        principal=args.principal,
        operation=args.operation,
        outcome=args.outcome,
        since=args.since,
        until=args.until,
    )
    records = read_records(settings, where)
    return {"records": records, "count": len(records)}
