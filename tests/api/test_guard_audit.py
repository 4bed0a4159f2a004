"""The audit trail through the Lambda application, on S3 (moto): one decision record per operation (failed and
refused ones included), an intent record before every change, no embedding in any record, and no change or
answer without its record."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from frs.api.app import Application
from frs.audit.reader import AuditFilter, read_records
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.service import FaceService
from harness.s3 import S3Endpoint
from tests.api.conftest import b64
from tests.api.events import response_json, v2_event
from tests.api.test_guard import POLICY, ROLE, iam


@pytest.fixture
def s3_settings(
    local_settings: Settings, s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    bucket = s3_endpoint.create_bucket()
    s3_endpoint.client().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    yield dataclasses.replace(
        local_settings,
        gallery_uri=f"s3://{bucket}/galleries",
        audit_uri=f"s3://{bucket}/audit",
        access_policy=json.dumps(POLICY),
        aws_endpoint_url=s3_endpoint.url,
        aws_region="us-east-1",
        s3_max_attempts=2,
    )
    clear_gallery_cache()


def context(request_id: str) -> Any:
    return SimpleNamespace(aws_request_id=request_id)


def http(app: Application, method: str, path: str, request_id: str, **kwargs: Any) -> tuple[int, Any]:
    event = v2_event(method, path, **kwargs)
    iam(ROLE)(event)
    response = app(event, context(request_id))
    return int(response["statusCode"]), response_json(response)


def test_every_operation_writes_one_decision_and_every_change_an_intent_first(
    s3_settings: Settings, photo: dict[str, bytes], s3_endpoint: S3Endpoint
) -> None:
    app = Application(FaceService(s3_settings))
    jpeg = {"body": photo["person_b_2.jpg"], "content_type": "image/jpeg"}
    added = app({"action": "add", "gallery": "a", "name": "Ardern", "image": b64(photo["person_b_1.jpg"])},
                context("r-add"))  # fmt: skip
    assert added["ok"]
    calls: list[tuple[str, str, str, int]] = [  # request id, operation, outcome, status
        ("r-add", "add", "ok", 201),
    ]
    status, macron = http(app, "POST", "/galleries/a/identities/Macron/faces", "r-add2",
                          body=photo["person_a_1.jpg"], content_type="image/jpeg")  # fmt: skip
    assert status == 201
    calls.append(("r-add2", "add", "ok", 201))
    status, found = http(app, "POST", "/galleries/a/identify", "r-identify", **jpeg)
    assert status == 200 and found["faces"][0]["identity"] == "Ardern"
    calls.append(("r-identify", "identify", "ok", 200))
    assert http(app, "POST", "/galleries/a/verify", "r-verify", **jpeg, query={"name": "Ardern"})[0] == 200
    calls.append(("r-verify", "verify", "ok", 200))
    assert http(app, "GET", "/galleries/a/identities/Ardern", "r-get")[0] == 200
    calls.append(("r-get", "get", "ok", 200))
    assert http(app, "GET", "/galleries/a/identities", "r-list")[0] == 200
    calls.append(("r-list", "list", "ok", 200))
    assert http(app, "GET", "/galleries/a/identities/Nobody", "r-missing")[0] == 404
    calls.append(("r-missing", "get", "error", 404))
    assert http(app, "GET", "/galleries/b/identities", "r-forbidden")[0] == 403
    calls.append(("r-forbidden", "list", "forbidden", 403))
    group = {"action": "add", "gallery": "a", "name": "X", "image": b64(photo["solvay_conference_1927.jpg"])}
    assert app(group, context("r-noface"))["error"]["code"] == "multiple_faces"
    calls.append(("r-noface", "add", "error", 422))

    # The stored embeddings, before anything is deleted: no record may hold them, in any form.
    bucket = s3_settings.gallery_uri.split("/")[2]
    gallery_file = s3_endpoint.client().get_object(Bucket=bucket, Key="galleries/a.sqlite")["Body"].read()
    embeddings = _embeddings(gallery_file, Path(s3_settings.cache_dir) / "probe.sqlite")

    assert http(app, "DELETE", f"/galleries/a/faces/{added['face_id']}", "r-delface")[0] == 200
    calls.append(("r-delface", "delete_face", "ok", 200))
    assert http(app, "DELETE", "/galleries/a/identities/Macron", "r-delete")[0] == 200
    calls.append(("r-delete", "delete", "ok", 200))

    records = read_records(s3_settings)
    for request_id, operation, outcome, _ in calls:
        mine = [r for r in records if r["request_id"] == request_id]
        decisions = [r for r in mine if r["phase"] == "decision"]
        assert len(decisions) == 1, (request_id, mine)
        decision = decisions[0]
        assert decision["operation"] == operation and decision["outcome"] == outcome and decision["gallery"]
        intents = [r for r in mine if r["phase"] == "intent"]
        assert len(intents) == (1 if operation in ("add", "delete", "delete_face") and outcome != "forbidden"
                                else 0), (request_id, mine)  # fmt: skip
    by_id = {r["request_id"]: r for r in records if r["phase"] == "decision"}
    assert by_id["r-add"]["identities"] == ["Ardern"] and by_id["r-add"]["face_ids"] == [added["face_id"]]
    assert by_id["r-add"]["principal"] == "direct" and by_id["r-add2"]["principal"] == ROLE
    assert "Ardern" in by_id["r-identify"]["identities"]
    assert by_id["r-identify"]["operating_point"]["target_fpir"] == s3_settings.target_fpir
    assert by_id["r-verify"]["operating_point"] and by_id["r-verify"]["identities"] == ["Ardern"]
    assert by_id["r-get"]["face_ids"] == [added["face_id"]]
    assert by_id["r-missing"]["error"] == "not_found" and by_id["r-missing"]["identities"] == ["Nobody"]
    assert by_id["r-forbidden"]["gallery"] == "b" and by_id["r-forbidden"]["error"] == "forbidden"
    assert by_id["r-delface"]["face_ids"] == [added["face_id"]]
    assert by_id["r-delete"]["identities"] == ["Macron"] and by_id["r-delete"]["faces_removed"] == 1
    assert by_id["r-delete"]["face_ids"] == [macron["face_id"]]  # the faces the delete erased
    assert (
        read_records(s3_settings, AuditFilter(identity="Macron", operation="delete"))[-1]["phase"]
        == "decision"
    )

    raw = b"".join(
        s3_endpoint.client().get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in s3_endpoint.client().list_objects_v2(Bucket=bucket, Prefix="audit/")["Contents"]
    )
    assert raw.count(b"\n") == len(records)
    _assert_holds_no_embedding(raw, embeddings)


def _embeddings(gallery_file: bytes, path: Path) -> list[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gallery_file)
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT embedding FROM faces")]
    finally:
        conn.close()


def _assert_holds_no_embedding(raw: bytes, embeddings: list[bytes]) -> None:
    assert len(embeddings) == 2
    text = raw.decode("utf-8")
    for blob in embeddings:
        assert blob not in raw
        values = struct.unpack(f"<{len(blob) // 4}f", blob)
        for offset in range(0, len(blob) - 16, 4):  # any 4 consecutive float32s
            assert blob[offset : offset + 16] not in raw
        for value in values:
            if abs(value) >= 0.001:
                assert repr(value) not in text and f"{value:.6f}" not in text


def test_a_failed_audit_write_fails_the_request_and_leaves_the_gallery_unchanged(
    s3_settings: Settings, photo: dict[str, bytes], s3_endpoint: S3Endpoint
) -> None:
    app = Application(FaceService(s3_settings))
    added = app(
        {"action": "add", "gallery": "a", "name": "Ardern", "image": b64(photo["person_b_1.jpg"])}, None
    )
    assert added["ok"]
    bucket = s3_settings.gallery_uri.split("/")[2]
    client = s3_endpoint.client()

    def versions() -> list[str]:
        listing = client.list_object_versions(Bucket=bucket, Prefix="galleries/a.sqlite")
        return [v["VersionId"] for v in listing.get("Versions", [])]

    before = versions()
    clear_gallery_cache()
    broken = Application(
        FaceService(dataclasses.replace(s3_settings, audit_uri="s3://no-such-audit-bucket/a"))
    )
    attempts = [
        ("POST", "/galleries/a/identities/Macron/faces", {"body": photo["person_a_1.jpg"],
                                                          "content_type": "image/jpeg"}),
        ("DELETE", "/galleries/a/identities/Ardern", {}),
        ("DELETE", f"/galleries/a/faces/{added['face_id']}", {}),
        ("POST", "/galleries/a/identify", {"body": photo["person_b_2.jpg"], "content_type": "image/jpeg"}),
        ("GET", "/galleries/a/identities/Ardern", {}),
        ("GET", "/galleries/b/identities", {}),  # even a refusal is recorded, or not answered
    ]  # fmt: skip
    for method, path, kwargs in attempts:
        status, body = http(broken, method, path, "r", **kwargs)
        assert status == 503 and body["error"]["code"] == "audit_unavailable", (method, path, body)
    direct = broken({"action": "delete", "gallery": "a", "name": "Ardern"}, None)
    assert direct["ok"] is False and direct["error"]["code"] == "audit_unavailable"
    assert versions() == before  # not one new version of the gallery
    assert app({"action": "get", "gallery": "a", "name": "Ardern"}, None)["face_count"] == 1
    assert app({"action": "list", "gallery": "a"}, None)["identities"][0]["identity"] == "Ardern"
