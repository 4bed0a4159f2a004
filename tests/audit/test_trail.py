"""Audit objects in a directory: one JSON Lines object per write, never overwritten, read back in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frs.audit import trail
from frs.audit.reader import AuditFilter, read_records
from frs.audit.record import answered, record
from frs.audit.trail import AuditTrail
from frs.config import Settings
from frs.errors import FRSError


def test_records_are_json_lines_objects_keyed_by_day(tmp_path: Path) -> None:
    settings = Settings(audit_uri=str(tmp_path / "audit"))
    base = {"request_id": "r1", "principal": "p", "gallery": "g", "operation": "purge", "access": "delete"}
    batch = [record(base, "decision", outcome="ok", identities=[name]) for name in ("a", "b")]
    where = AuditTrail(settings).write(batch)
    assert where is not None and where.endswith(".jsonl")
    stored = Path(where)
    assert stored.relative_to(tmp_path / "audit").parts[:3] == tuple(batch[0]["time"][:10].split("-"))
    lines = stored.read_bytes().splitlines()
    assert [json.loads(line)["identities"] for line in lines] == [["a"], ["b"]]
    assert [r["identities"] for r in read_records(settings, AuditFilter(gallery="g"))] == [["a"], ["b"]]
    assert read_records(settings, AuditFilter(identity="b"))[0]["identities"] == ["b"]
    assert read_records(settings, AuditFilter(since="2999-01-01")) == []
    assert len(read_records(settings, AuditFilter(since=batch[0]["time"][:10]))) == 2


def test_a_store_that_fails_is_audit_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(key: str, data: bytes) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(trail, "before_store", refuse)
    with pytest.raises(FRSError) as caught:
        AuditTrail(Settings(audit_uri=str(tmp_path))).write([record({}, "decision")])
    assert caught.value.code == "audit_unavailable" and caught.value.status == 503


def test_answers_give_the_names_and_face_ids_they_returned() -> None:
    identify = {
        "operating_point": {"threshold": 0.4},
        "faces": [
            {"identity": "A", "candidates": [{"identity": "A"}, {"identity": "B"}]},
            {"identity": None},
        ],
    }
    assert answered("identify", identify) == {
        "identities": ["A", "B"],
        "face_ids": [],
        "operating_point": {"threshold": 0.4},
    }
    got = answered("get", {"identity": "A", "faces": [{"face_id": "f1"}, {"face_id": "f2"}]})
    assert got == {"identities": ["A"], "face_ids": ["f1", "f2"]}


def test_reading_without_a_trail_is_a_bad_request() -> None:
    with pytest.raises(FRSError) as caught:
        read_records(Settings())
    assert caught.value.code == "bad_request"
