"""Retention end to end: an expired identity is never named, the purge erases its bytes, audited; export."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from types import SimpleNamespace

from frs.api.app import Application
from frs.audit.reader import read_records
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.service import FaceService
from tests.api.conftest import b64


def test_expired_identities_are_never_matched_and_the_purge_erases_their_bytes(
    local_settings: Settings, tmp_path: Path, photo: dict[str, bytes]
) -> None:
    settings = dataclasses.replace(local_settings, audit_uri=str(tmp_path / "audit"))
    app = Application(FaceService(settings))
    gone = app({"action": "add", "gallery": "g", "name": "Ardern", "image": b64(photo["person_b_1.jpg"]),
                "expires_at": "2000-01-01T00:00:00Z"}, None)  # fmt: skip
    assert gone["ok"] and gone["expires_at"] == "2000-01-01T00:00:00.000Z"
    kept = app(
        {"action": "add", "gallery": "g", "name": "Macron", "image": b64(photo["person_a_1.jpg"])}, None
    )
    assert kept["ok"] and kept["expires_at"] is None
    path = Path(settings.gallery_uri) / "g.sqlite"
    conn = sqlite3.connect(path)
    blob = conn.execute("SELECT embedding FROM faces WHERE face_id = ?", (gone["face_id"],)).fetchone()[0]
    conn.close()
    assert blob in path.read_bytes()

    found = app({"action": "identify", "gallery": "g", "image": b64(photo["person_b_2.jpg"])}, None)
    names = {c["identity"] for face in found["faces"] for c in face["candidates"]} | {
        face["identity"] for face in found["faces"]
    }
    assert "Ardern" not in names  # expired: never named, not even a candidate, before the purge
    probe = b64(photo["person_b_2.jpg"])
    verify = app({"action": "verify", "gallery": "g", "name": "Ardern", "image": probe}, None)
    assert verify["error"]["code"] == "not_found"

    exported = app({"action": "export_identity", "gallery": "g", "name": "Ardern"}, None)
    assert exported["ok"] and exported["record"]["faces"][0]["face_id"] == gone["face_id"]
    assert any(r["operation"] == "add" for r in exported["audit"])

    purged = app({"action": "purge"}, SimpleNamespace(aws_request_id="purge-1"))  # what the schedule sends
    assert purged["ok"] and purged["purged"] == [
        {"gallery": "g", "identity": "Ardern", "face_ids": [gone["face_id"]]}
    ]
    assert blob not in path.read_bytes()  # the bytes are gone from the gallery file
    assert app({"action": "get", "gallery": "g", "name": "Macron"}, None)["ok"]
    record = [r for r in read_records(settings) if r["request_id"] == "purge-1" and r["phase"] == "decision"]
    assert record[0]["identities"] == ["Ardern"] and record[0]["face_ids"] == [gone["face_id"]]
    clear_gallery_cache()


def test_a_gallery_default_retention_applies_to_new_identities(
    app: Application, photo: dict[str, bytes]
) -> None:
    assert app({"action": "update", "gallery": "r", "retention_days": 30}, None)["retention_days"] == 30
    added = app({"action": "add", "gallery": "r", "name": "A", "image": b64(photo["person_b_1.jpg"])}, None)
    assert added["expires_at"] is not None and added["expires_at"] > "2026"
    bad = app({"action": "add", "gallery": "r", "name": "B", "image": b64(photo["person_a_1.jpg"]),
               "expires_at": "next tuesday"}, None)  # fmt: skip
    assert bad["error"]["code"] == "bad_request"
    assert app({"action": "update", "gallery": "r", "clear_retention": True}, None)["retention_days"] is None
