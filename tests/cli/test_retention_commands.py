"""Retention and audit from the CLI (``frs.cli.main.main`` in-process, real photos, a directory gallery):
``--expires-at`` on add and update-metadata, update-gallery, purge, export-identity; and every gallery command
writes the API's audit records (principal ``local:<os user>``, surface ``cli``) when FRS_AUDIT_URI is set."""

from __future__ import annotations

import getpass
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.audit.reader import read_records
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from tests.cli.run import Cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cli]:
    """``frs`` with a fresh gallery directory, its own cache and an audit directory (FRS_AUDIT_URI)."""
    monkeypatch.setenv("FRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FRS_SYNC_TTL", "0")
    monkeypatch.setenv("FRS_THREADS", "2")
    monkeypatch.setenv("FRS_AUDIT_URI", str(tmp_path / "audit"))
    monkeypatch.delenv("FRS_GALLERY_URI", raising=False)
    monkeypatch.delenv("FRS_ACCESS_POLICY", raising=False)
    yield Cli(capsys, ["--gallery-uri", str(tmp_path / "galleries"), "--gallery", "g"])
    clear_gallery_cache()


def _named(cli: Cli, image: str) -> set[str]:
    code, found = cli("identify", image)
    assert code == 0
    return {c["identity"] for face in found["faces"] for c in face["candidates"]} | {
        face["identity"] for face in found["faces"]
    }


def test_expiry_retention_purge_and_export_from_the_cli(cli: Cli, testdata: Path) -> None:
    b1, b2, a1 = (str(testdata / n) for n in ("person_b_1.jpg", "person_b_2.jpg", "person_a_1.jpg"))
    code, added = cli("add", "Ardern", b1, "--expires-at", "2000-01-01T00:00:00Z")
    assert code == 0
    face_id = added["results"][0]["face_id"]
    code, person = cli("get", "Ardern")
    assert person["expires_at"] == "2000-01-01T00:00:00.000Z"
    assert cli("add", "Macron", a1)[0] == 0
    assert "Ardern" not in _named(cli, b2)  # expired: never named

    code, cleared = cli("update-metadata", "Ardern", "--expires-at", "none")  # no metadata needed
    assert code == 0 and cleared["expires_at"] is None and cleared["metadata"] == {}
    assert "Ardern" in _named(cli, b2)
    code, both = cli("update-metadata", "Ardern", '{"site": "HQ"}', "--expires-at", "2000-01-01")
    assert (
        code == 0 and both["expires_at"] == "2000-01-01T00:00:00.000Z" and both["metadata"] == {"site": "HQ"}
    )
    code, neither = cli("update-metadata", "Ardern")
    assert code == 2 and neither["error"]["code"] == "bad_request"
    code, bad = cli("add", "X", a1, "--expires-at", "next tuesday")
    assert code == 2 and bad["error"]["code"] == "bad_request"

    code, exported = cli("export-identity", "Ardern")
    assert code == 0 and exported["record"]["faces"][0]["face_id"] == face_id
    assert {r["operation"] for r in exported["audit"]} >= {"add", "update_metadata"}

    code, purged = cli("purge")
    assert code == 0 and purged["purged"] == [{"gallery": "g", "identity": "Ardern", "face_ids": [face_id]}]
    assert cli("get", "Ardern")[0] == 2 and cli("get", "Macron")[0] == 0

    code, dated = cli("update-gallery", "--retention-days", "30")
    assert code == 0 and dated == {"gallery": "g", "retention_days": 30.0}
    assert cli("add", "New", b2)[0] == 0 and cli("get", "New")[1]["expires_at"] > "2026"
    code, undated = cli("update-gallery", "--clear-retention")
    assert code == 0 and undated["retention_days"] is None


def _embeddings(gallery: Path) -> list[bytes]:
    conn = sqlite3.connect(f"file:{gallery}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT embedding FROM faces")]
    finally:
        conn.close()


def test_every_gallery_command_writes_its_audit_records(cli: Cli, testdata: Path, tmp_path: Path) -> None:
    b1, b2, a1 = (str(testdata / n) for n in ("person_b_1.jpg", "person_b_2.jpg", "person_a_1.jpg"))
    code, ardern = cli("add", "Ardern", b1, b2)
    assert code == 0
    ardern_faces = [r["face_id"] for r in ardern["results"]]
    code, macron = cli("add", "Macron", a1)
    macron_face = macron["results"][0]["face_id"]
    embeddings = _embeddings(tmp_path / "galleries" / "g.sqlite")
    assert len(embeddings) == 3
    commands = [
        ("identify", b2),
        ("get", "Ardern"),
        ("list",),
        ("get", "Nobody"),  # a failed read is recorded too
        ("search-face", macron_face),
        ("delete-face", ardern_faces[1]),
        ("delete", "Macron"),
    ]
    for command in commands:
        cli(*command)

    settings = Settings(audit_uri=str(tmp_path / "audit"))
    records = read_records(settings)
    decisions = [r for r in records if r["phase"] == "decision"]
    operations = ["add", "add", "identify", "get", "list", "get", "search_face", "delete_face", "delete"]
    assert [r["operation"] for r in decisions] == operations  # exactly one decision per command
    intents = [r["operation"] for r in records if r["phase"] == "intent"]
    assert intents == ["add", "add", "delete_face", "delete"]  # every change: an intent record first
    assert {r["principal"] for r in records} == {f"local:{getpass.getuser()}"}
    assert {r["surface"] for r in records} == {"cli"} and {r["gallery"] for r in records} == {"g"}
    assert decisions[0]["identities"] == ["Ardern"] and decisions[0]["face_ids"] == ardern_faces
    assert "Ardern" in decisions[2]["identities"] and decisions[2]["operating_point"]
    assert (decisions[5]["outcome"], decisions[5]["error"]) == ("error", "not_found")
    assert decisions[7]["face_ids"] == [ardern_faces[1]]
    assert decisions[8]["identities"] == ["Macron"] and decisions[8]["face_ids"] == [macron_face]
    assert decisions[8]["faces_removed"] == 1

    # Byte for byte: no stored record holds an embedding, whole or any 4 consecutive float32s of one.
    raw = b"".join(p.read_bytes() for p in sorted((tmp_path / "audit").rglob("*.jsonl")))
    assert raw.count(b"\n") == len(records)
    text = raw.decode("utf-8")
    for blob in embeddings:
        assert blob not in raw
        for offset in range(0, len(blob) - 16, 4):
            assert blob[offset : offset + 16] not in raw
        for value in struct.unpack(f"<{len(blob) // 4}f", blob):
            if abs(value) >= 0.001:
                assert repr(value) not in text and f"{value:.6f}" not in text


def test_without_an_audit_uri_the_cli_writes_no_record(
    cli: Cli, testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRS_AUDIT_URI")
    code, added = cli("add", "Ardern", str(testdata / "person_b_1.jpg"))  # stdout is still one JSON answer
    assert code == 0 and added["results"][0]["identity"] == "Ardern"
    assert not (tmp_path / "audit").exists()
