"""Restore a gallery: to an earlier S3 object version (file galleries in a versioned bucket), or from an
export file (any backend; the gallery then holds exactly the file's records)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from frs.errors import FRSError
from frs.gallery.transfer.importer import ImportReport, import_export
from frs.gallery.types import Gallery


@runtime_checkable
class _Versioned(Protocol):
    def restore_version(self, version_id: str) -> str: ...


def restore_version(gallery: Gallery, version_id: str) -> str:
    """Make S3 version ``version_id`` of the gallery's file current again (one conditional upload); the new
    ETag. ``bad_request`` for a gallery that keeps no versions (PostgreSQL, a local directory)."""
    if not version_id or not isinstance(version_id, str):
        raise FRSError("bad_request", "give the S3 VersionId to restore")
    if not isinstance(gallery, _Versioned):
        raise FRSError("bad_request", "only file galleries on S3 keep versions; restore with --from-export")
    return gallery.restore_version(version_id)


def restore_export(
    gallery: Gallery, path: Path, *, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """Replace the gallery's records by the export file's, in one atomic write (checked first)."""
    return import_export(gallery, path, replace=True, progress=progress)
