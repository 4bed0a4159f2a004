"""Retention end to end: an expired identity is never named, the purge erases its bytes, audited; export;
update_metadata sets, moves and clears an expiry; on file galleries and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from frs.api.app import Application
from frs.audit.reader import read_records
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.types import NewFace
from frs.service import FaceService
from harness.postgres import shared_pg_server
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


def _named(app: Application, gallery: str, photo: bytes) -> set[str]:
    """Every identity identify names or lists as a candidate for ``photo``."""
    found = app({"action": "identify", "gallery": gallery, "image": b64(photo)}, None)
    assert found["ok"], found
    return {c["identity"] for face in found["faces"] for c in face["candidates"]} | {
        face["identity"] for face in found["faces"]
    }


def test_update_metadata_sets_clears_and_keeps_the_expiry(
    local_settings: Settings, tmp_path: Path, photo: dict[str, bytes]
) -> None:
    settings = dataclasses.replace(local_settings, audit_uri=str(tmp_path / "audit"))
    app = Application(FaceService(settings))
    added = app({"action": "add", "gallery": "g", "name": "Ardern", "image": b64(photo["person_b_1.jpg"]),
                 "metadata": {"site": "HQ"}}, None)  # fmt: skip
    assert added["ok"] and added["expires_at"] is None
    assert "Ardern" in _named(app, "g", photo["person_b_2.jpg"])

    def update(request_id: str, **fields: object) -> dict[str, Any]:
        event = {"action": "update_metadata", "gallery": "g", "name": "Ardern", **fields}
        answer: dict[str, Any] = app(event, SimpleNamespace(aws_request_id=request_id))
        return answer

    # A time in the past, without metadata: the identity expires at once and identify stops naming it.
    past = update("past", expires_at="2000-01-01T00:00:00")
    assert past["ok"] and past["expires_at"] == "2000-01-01T00:00:00.000Z"
    assert past["metadata"] == {"site": "HQ"} and past["identity"] == "Ardern"
    assert "Ardern" not in _named(app, "g", photo["person_b_2.jpg"])
    # Metadata only: the expiry is left as it was.
    kept = update("kept", metadata={"team": "blue"})
    assert kept["expires_at"] == "2000-01-01T00:00:00.000Z" and kept["metadata"] == {
        "site": "HQ",
        "team": "blue",
    }
    # null clears it: the identity no longer expires and is named again.
    cleared = update("cleared", expires_at=None)
    assert cleared["ok"] and cleared["expires_at"] is None and cleared["metadata"] == kept["metadata"]
    assert "Ardern" in _named(app, "g", photo["person_b_2.jpg"])
    moved = update("moved", expires_at="2099-05-01T12:00:00+02:00", mode="replace", metadata={"k": 1})
    assert moved["expires_at"] == "2099-05-01T10:00:00.000Z" and moved["metadata"] == {"k": 1}

    before = app({"action": "get", "gallery": "g", "name": "Ardern"}, None)
    bad = update("bad", expires_at="next tuesday", metadata={"k": 2})
    refused_by_add = app({"action": "add", "gallery": "g", "name": "X", "image": b64(photo["person_a_1.jpg"]),
                          "expires_at": "next tuesday"}, None)  # fmt: skip
    assert bad["error"] == refused_by_add["error"]  # the same code and message as add's
    assert bad["error"]["code"] == "bad_request"
    assert update("number", expires_at=20990101)["error"]["code"] == "bad_request"
    neither = update("neither")
    assert neither["error"]["code"] == "bad_request" and "expires_at" in neither["error"]["message"]
    assert update("nobody", name="Nobody", expires_at=None)["error"]["code"] == "not_found"
    assert app({"action": "get", "gallery": "g", "name": "Ardern"}, None) == before  # nothing changed

    decisions = {
        r["request_id"]: r
        for r in read_records(settings)
        if r["phase"] == "decision" and r["operation"] == "update_metadata"
    }
    assert decisions["past"]["expires_at"] == "2000-01-01T00:00:00.000Z"
    assert decisions["cleared"]["outcome"] == "ok" and decisions["cleared"]["expires_at"] is None
    assert decisions["bad"]["error"] == "bad_request" and "expires_at" not in decisions["bad"]
    assert decisions["cleared"]["identities"] == ["Ardern"]
    clear_gallery_cache()


def test_retention_on_postgresql_end_to_end(
    local_settings: Settings, tmp_path: Path, photo: dict[str, bytes]
) -> None:
    """The same promises on PostgreSQL: never named once expired, the purge ("*" reaches PostgreSQL galleries
    too) deletes it with its face ids and is audited, expiry edits and the default retention work."""
    settings = dataclasses.replace(
        local_settings, gallery_uri=shared_pg_server().uri, audit_uri=str(tmp_path / "audit")
    )
    app = Application(FaceService(settings))
    gallery = f"expiry_{uuid.uuid4().hex[:12]}"
    gone = app({"action": "add", "gallery": gallery, "name": "Ardern", "image": b64(photo["person_b_1.jpg"]),
                "expires_at": "2000-01-01T00:00:00Z"}, None)  # fmt: skip
    assert gone["ok"] and gone["expires_at"] == "2000-01-01T00:00:00.000Z"
    kept = app({"action": "add", "gallery": gallery, "name": "Macron", "image": b64(photo["person_a_1.jpg"]),
                "metadata": {"k": 1}}, None)  # fmt: skip
    assert kept["ok"] and kept["expires_at"] is None
    assert "Ardern" not in _named(app, gallery, photo["person_b_2.jpg"])
    verify = app({"action": "verify", "gallery": gallery, "name": "Ardern",
                  "image": b64(photo["person_b_2.jpg"])}, None)  # fmt: skip
    assert verify["error"]["code"] == "not_found"
    searched = app({"action": "search_face", "gallery": gallery, "face_id": kept["face_id"]}, None)
    assert searched["ok"] and "Ardern" not in {c["identity"] for c in searched["candidates"]}

    def update(**fields: object) -> dict[str, Any]:
        answer: dict[str, Any] = app({"action": "update_metadata", "gallery": gallery, **fields}, None)
        return answer

    assert update(name="Ardern", expires_at=None)["expires_at"] is None  # cleared: named again
    assert "Ardern" in _named(app, gallery, photo["person_b_2.jpg"])
    moved = update(name="Ardern", expires_at="2000-01-01T02:00:00+02:00", metadata={"site": "HQ"})
    assert moved["expires_at"] == "2000-01-01T00:00:00.000Z" and moved["metadata"] == {"site": "HQ"}
    assert update(name="Macron", metadata={"k": 2})["expires_at"] is None  # metadata only: expiry stays
    before = app({"action": "get", "gallery": gallery, "name": "Macron"}, None)
    bad = update(name="Macron", expires_at="next tuesday", metadata={"k": 3})
    assert bad["error"]["code"] == "bad_request"
    assert app({"action": "get", "gallery": gallery, "name": "Macron"}, None) == before  # nothing changed

    purged = app({"action": "purge"}, SimpleNamespace(aws_request_id="pg-purge"))  # what the schedule sends
    assert purged["ok"] and purged["galleries"] >= 1
    mine = [p for p in purged["purged"] if p["gallery"] == gallery]
    assert mine == [{"gallery": gallery, "identity": "Ardern", "face_ids": [gone["face_id"]]}]
    assert app({"action": "get", "gallery": gallery, "name": "Ardern"}, None)["error"]["code"] == "not_found"
    assert app({"action": "get", "gallery": gallery, "name": "Macron"}, None)["ok"]
    record = [r for r in read_records(settings) if r["request_id"] == "pg-purge" and r["phase"] == "decision"]
    assert "Ardern" in record[0]["identities"] and gone["face_id"] in record[0]["face_ids"]

    assert app({"action": "update", "gallery": gallery, "retention_days": 30}, None)["retention_days"] == 30
    dated = app({"action": "add", "gallery": gallery, "name": "New", "image": b64(photo["person_b_1.jpg"])},
                None)  # fmt: skip
    assert dated["expires_at"] is not None and dated["expires_at"] > "2026"
    cleared = app({"action": "update", "gallery": gallery, "clear_retention": True}, None)
    assert cleared["retention_days"] is None
    clear_gallery_cache()


def test_identify_still_answers_with_more_expired_identities_than_top_k_allows(
    local_settings: Settings, photo: dict[str, bytes]
) -> None:
    """A file gallery's matrix holds expired identities until the purge; identify drops them after fetching
    extra candidates, capped at top_k's limit, so 150 unpurged expired identities are no bad_request."""
    service = FaceService(local_settings)
    app = Application(service)
    assert app({"action": "add", "gallery": "many", "name": "Ardern", "image": b64(photo["person_b_1.jpg"])},
               None)["ok"]  # fmt: skip
    store = service.gallery("many")
    pack = service.analyzer.pack
    rng = np.random.default_rng(7)
    expired: list[tuple[str, NewFace, dict[str, Any] | None]] = []
    for i in range(150):
        vector = rng.standard_normal(pack.dim).astype(np.float32)
        face = NewFace(vector / np.linalg.norm(vector), 0.9, (0.0, 0.0, 10.0, 10.0), f"{i:064x}")
        expired.append((f"gone{i:03d}", face, None))
    assert isinstance(store, SyncedGallery)
    store.add_faces(expired, pack=pack, expires_at="2000-01-01T00:00:00.000Z")
    found = app({"action": "identify", "gallery": "many", "image": b64(photo["person_b_2.jpg"])}, None)
    assert found["ok"], found
    assert found["faces"][0]["identity"] == "Ardern"
    assert not any(c["identity"].startswith("gone") for c in found["faces"][0]["candidates"])
    clear_gallery_cache()
