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
    assert (meta["schema_version"], meta["pack"], meta["dim"]) == ("2", pack.name, str(pack.dim))
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
