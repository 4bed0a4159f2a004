"""The SQLite gallery file itself: its documented layout and the write ids a version remembers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from frs.config import Settings
from frs.gallery.factory import open_gallery
from frs.gallery.file.store import RECENT_WRITE_IDS, open_working_copy
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker


def test_stored_file_has_the_documented_schema(
    local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    gallery = open_gallery("people", local_settings)
    gallery.add_face("A", faces.face("a"), pack=pack)
    path = f"{local_settings.gallery_uri}/people.sqlite"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert (meta["schema_version"], meta["pack"], meta["dim"]) == ("3", pack.name, str(pack.dim))
    blob, dim = conn.execute("SELECT embedding, dim FROM faces").fetchone()
    assert np.array_equal(np.frombuffer(blob, dtype="<f4"), faces.embedding("a")) and dim == pack.dim
    conn.close()


def test_a_version_remembers_its_recent_write_ids(tmp_path: Path) -> None:
    db = open_working_copy(tmp_path / "g.sqlite", "g")
    assert db.recent_write_ids() == []
    ids = [f"w{i}" for i in range(RECENT_WRITE_IDS + 8)]
    for write_id in ids:
        db.set_write_id(write_id)
    assert db.write_id() == ids[-1]
    assert db.recent_write_ids() == ids[-RECENT_WRITE_IDS:]  # bounded, newest last
    db.close()


def test_a_version_1_file_is_upgraded_and_keeps_its_faces(
    local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    """A file written before sources were recorded (schema 1) reads as faces without a source."""
    import json as _json

    from frs.gallery.file.store import _migrate_to_v1

    path = Path(local_settings.gallery_uri) / "old.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    _migrate_to_v1(conn)
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [("schema_version", "1"), ("pack", pack.name), ("dim", str(pack.dim))],
    )
    conn.execute(
        "INSERT INTO identities VALUES (1, 'A', '{}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"
    )
    conn.execute(
        "INSERT INTO faces VALUES (?, 1, ?, ?, ?, 0.9, ?, ?, '2026-01-01T00:00:00.000Z')",
        (
            "00000000-0000-4000-8000-000000000001",
            faces.embedding("a").astype("<f4").tobytes(),
            pack.name,
            pack.dim,
            _json.dumps([1, 2, 3, 4]),
            faces.face("a").image_sha256,
        ),
    )
    conn.commit()
    conn.close()
    gallery = open_gallery("old", local_settings)
    record = gallery.get("A").faces[0]
    assert (record.source, record.quality) == (None, None)
    gallery.add_face("A", faces.face("b"), pack=pack)  # the write uploads the upgraded schema
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    assert conn.execute("SELECT count(*) FROM faces").fetchone()[0] == 2
    conn.close()
