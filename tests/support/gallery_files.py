"""Inspect a gallery SQLite file (e.g. an S3 object's bytes) as a test does: checked, then counted."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from frs.gallery.file.store import APPLICATION_ID


def faces_in_gallery_file(data: bytes, scratch: Path) -> dict[str, int]:
    """{identity: face count}, after checking the bytes are a sound FRS gallery file."""
    local = scratch / f"object-{uuid.uuid4().hex}.sqlite"
    local.write_bytes(data)
    conn = sqlite3.connect(f"file:{local}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        rows = conn.execute(
            "SELECT i.name, COUNT(f.face_id) FROM identities i LEFT JOIN faces f ON f.identity_id = i.id "
            "GROUP BY i.id"
        ).fetchall()
    finally:
        conn.close()
        local.unlink()
    return {str(name): int(count) for name, count in rows}
