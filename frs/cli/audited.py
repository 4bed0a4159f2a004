"""CLI commands on a gallery go through the same audit path as the API (:class:`frs.api.guard.Guard`).

A command that reads or changes biometric data declares the API operation it performs
(``set_defaults(operation=...)``), or for the whole-gallery commands that have no API operation, its CLI
operation (``gallery_export``, ``gallery_import``, ``gallery_copy``, ``gallery_restore``, ``gallery_reindex``:
:data:`frs.access.classes.CLI_OPERATION_CLASSES`). With ``FRS_AUDIT_URI`` set, it then writes the records an
API call would: an ``intent`` record before a change, one ``decision`` record per command, refused and failed
ones included, principal ``local:<os user>`` and surface ``cli``. The CLI is trusted (no access policy
applies: whoever runs it holds the storage's credentials). Records go to ``FRS_AUDIT_URI`` only, never to
stdout, which carries the command's JSON answer. Without ``FRS_AUDIT_URI`` the CLI writes no audit record.
"""

from __future__ import annotations

import argparse
from typing import Any

from frs.access.principal import local_principal
from frs.service import FaceService


def requested_fields(args: argparse.Namespace) -> dict[str, Any]:
    """What the command names, in the API's field names (gallery, name, face_id); purge's TARGET is its
    gallery (copy's and reindex's ``target`` is a location, not a gallery)."""
    gallery = args.target if args.operation == "purge" else args.gallery
    fields: dict[str, Any] = {"gallery": gallery}
    for field in ("name", "face_id"):
        value = getattr(args, field, None)
        if isinstance(value, str):
            fields[field] = value
    return fields


def run_command(service: FaceService, args: argparse.Namespace) -> Any:
    """``args.run(service, args)``, audited when it is a gallery operation and FRS_AUDIT_URI is set."""
    operation = getattr(args, "operation", None)
    if operation is None or not service.settings.audit_uri:
        return args.run(service, args)
    from frs.api.guard import Caller, Guard

    guard = Guard(service, trusted_only=True, log=False)
    caller = Caller(local_principal(), None, "cli")
    return guard.run(operation, requested_fields(args), caller, lambda: args.run(service, args))
