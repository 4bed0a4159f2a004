"""events/*.json (samples for `sam local invoke`): well-formed, matching the routes, working on handler.py."""

from __future__ import annotations

import base64
import importlib
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from awslambdaric.lambda_context import LambdaContext

from frs.api.direct import ACTIONS
from frs.api.routes import ROUTES
from frs.config import REPO_ROOT

EVENTS = REPO_ROOT / "events"
EVENT_FILES = sorted(EVENTS.glob("*.json"))
ROUTE_KEYS = {f"{r.method} {r.path}" for r in ROUTES} | {"GET /openapi.json", "GET /docs"}
JPEG_MAGIC = b"\xff\xd8\xff"


def _load(path: Path) -> dict[str, Any]:
    event = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(event, dict)
    return event


def _kind(event: dict[str, Any]) -> str:
    if event.get("version") == "2.0" and "routeKey" in event:
        return "http_v2"
    if "httpMethod" in event and "resource" in event:
        return "rest_v1"
    assert "action" in event, "neither a direct event nor an API Gateway event"
    return "direct"


def _events(kind: str) -> dict[str, dict[str, Any]]:
    return {p.stem: e for p in EVENT_FILES if _kind(e := _load(p)) == kind}


def _fill(template: str, params: dict[str, str] | None) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: (params or {})[m.group(1)], template)


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    return base64.b64decode(body, validate=True) if event["isBase64Encoded"] else body.encode()


def test_there_are_events() -> None:
    assert len(EVENT_FILES) >= 15


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name)
def test_event_parses_and_is_small(path: Path) -> None:
    assert path.stat().st_size < 32 * 1024  # tiny photos only
    _kind(_load(path))


def test_every_direct_action_has_an_event() -> None:
    direct = _events("direct")
    assert all(e["action"] in ACTIONS for e in direct.values())
    assert {e["action"] for e in direct.values()} == set(ACTIONS)
    verifies = [e for e in direct.values() if e["action"] == "verify"]
    assert any("image_b" in e for e in verifies) and any("name" in e for e in verifies)


def test_direct_images_are_real_jpegs_or_s3_references() -> None:
    for name, event in _events("direct").items():
        for field in ("image", "image_b"):
            if field not in event:
                continue
            ref = event[field]
            if "base64" in ref:
                assert base64.b64decode(ref["base64"], validate=True).startswith(JPEG_MAGIC), name
            else:
                assert set(ref["s3"]) == {"bucket", "key"}, name


def test_http_api_v2_events_match_routes() -> None:
    events = _events("http_v2")
    assert {"apigw_v2_add", "apigw_v2_identify", "apigw_v2_list"} <= set(events)
    for name, event in events.items():
        assert event["routeKey"] in ROUTE_KEYS, name
        assert event["requestContext"]["routeKey"] == event["routeKey"]
        method, template = event["routeKey"].split(" ", 1)
        assert event["requestContext"]["http"]["method"] == method
        assert (
            event["rawPath"]
            == event["requestContext"]["http"]["path"]
            == _fill(template, event.get("pathParameters"))
        )
        assert all(k == k.lower() for k in event["headers"])  # HTTP APIs lower-case header names


def test_rest_v1_events_match_routes() -> None:
    events = _events("rest_v1")
    assert {"apigw_v1_add", "apigw_v1_identify", "apigw_v1_list"} <= set(events)
    for name, event in events.items():
        assert f"{event['httpMethod']} {event['resource']}" in ROUTE_KEYS, name
        assert event["requestContext"]["resourcePath"] == event["resource"]
        assert event["path"] == _fill(event["resource"], event.get("pathParameters"))
        assert event["requestContext"]["path"] == f"/{event['requestContext']['stage']}{event['path']}"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_add_events_carry_a_multipart_jpeg_in_field_image(version: str) -> None:
    event = _load(EVENTS / f"apigw_{version}_add.json")
    assert event["isBase64Encoded"] is True
    headers = {k.lower(): v for k, v in event["headers"].items()}
    boundary = headers["content-type"].split("boundary=", 1)[1]
    body = _body(event)
    assert body.endswith(f"--{boundary}--\r\n".encode())
    head, _, rest = body.partition(b"\r\n\r\n")
    assert b'name="image"' in head
    assert rest.startswith(JPEG_MAGIC)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_identify_events_carry_a_json_image_object(version: str) -> None:
    event = _load(EVENTS / f"apigw_{version}_identify.json")
    assert event["isBase64Encoded"] is False
    body = json.loads(_body(event))
    assert base64.b64decode(body["image"]["base64"], validate=True).startswith(JPEG_MAGIC)


def test_samples_use_only_the_current_names() -> None:
    """The samples teach the vocabulary: no older field name (they stay accepted, tests/api covers them)."""
    older = {"file", "file_b", "image_base64", "image_b_base64", "s3"}
    for name, event in _events("direct").items():
        assert not older & set(event), name
    for kind in ("http_v2", "rest_v1"):
        for name, event in _events(kind).items():
            body = _body(event)
            assert b'name="file' not in body and b"image_base64" not in body, name


# -- the events against the real handler ---------------------------------------------------------------------


@pytest.fixture
def real_handler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """handler.py imported with a throw-away local gallery (its INIT reads the environment)."""
    monkeypatch.setenv("FRS_PACK", "embedded")
    monkeypatch.setenv("FRS_GALLERY_URI", str(tmp_path / "galleries"))
    monkeypatch.setenv("FRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FRS_THREADS", "2")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "frs")
    monkeypatch.delenv("FRS_MODELS_DIR", raising=False)
    module = (
        importlib.reload(sys.modules["handler"])
        if "handler" in sys.modules
        else importlib.import_module("handler")
    )
    yield module
    sys.modules.pop("handler", None)  # the next importer gets a handler built from its own environment


def _context() -> LambdaContext:
    return LambdaContext(
        "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        None,
        None,
        int(time.time() * 1000) + 30_000,
        "arn:aws:lambda:us-east-1:123456789012:function:frs",
    )


def _direct(handler: ModuleType, name: str) -> dict[str, Any]:
    result: dict[str, Any] = handler.handler(_load(EVENTS / f"{name}.json"), _context())
    json.dumps(result)  # Lambda must be able to serialise it
    return result


def _http(handler: ModuleType, name: str) -> tuple[int, Any]:
    response = handler.handler(_load(EVENTS / f"{name}.json"), _context())
    return response["statusCode"], json.loads(response["body"])


def test_direct_events_work_in_sequence(real_handler: ModuleType) -> None:
    covered_elsewhere = {"detect_s3"}  # needs an S3 endpoint: test_container_entrypoint.py runs it
    sequence = [
        "health",
        "detect",
        "verify",
        "update",
        "add",
        "get",
        "export_identity",
        "list",
        "identify",
        "verify_name",
        "update_metadata",
        "search_face",
        "move_face",
        "rename",
        "merge",
        "delete_face",
        "delete",
        "purge",
    ]
    assert set(sequence) | covered_elsewhere == set(_events("direct"))

    results = {name: _direct(real_handler, name) for name in sequence}
    for name in sequence:
        # The samples name a face id and an identity that are never enrolled: those answer not_found.
        expected_ok = name not in ("delete_face", "search_face", "move_face", "rename", "merge")
        assert results[name]["ok"] is expected_ok, (name, results[name])
    assert results["health"]["pack"] == "embedded"
    assert len(results["detect"]["faces"]) == 1 and results["detect"]["faces"][0]["quality"]["issues"] == []
    assert results["verify"]["match"] is True
    assert results["verify"]["operating_point"]["basis"] == "target_far"
    assert results["add"]["identity"] == "person_b" and results["add"]["created"] is True
    assert results["get"]["metadata"] == {"source": "events/add.json"}
    assert [i["identity"] for i in results["list"]["identities"]] == ["person_b"]
    face = results["identify"]["faces"][0]
    assert face["identity"] == "person_b" and face["reason"] is None
    assert results["identify"]["operating_point"]["target_fpir"] == 0.01
    assert results["identify"]["operating_point"]["gallery_size"] == 1
    assert results["verify_name"]["match"] is True and results["verify_name"]["threshold"] == 0.4
    assert results["verify_name"]["identity"] == "person_b"
    assert results["delete_face"]["error"]["code"] == "not_found"  # the sample face id is never enrolled
    assert results["update_metadata"]["metadata"] == {"source": "events/add.json", "site": "HQ"}
    for name in ("search_face", "move_face", "rename", "merge"):
        assert results[name]["error"]["code"] == "not_found", name
    assert results["delete"] == {
        "ok": True,
        "identity": "person_b",
        "faces_removed": 1,
        "face_ids": [results["add"]["face_id"]],
    }
    assert _direct(real_handler, "list")["identities"] == []


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_api_gateway_events_work_in_sequence(real_handler: ModuleType, version: str) -> None:
    status, added = _http(real_handler, f"apigw_{version}_add")
    assert status == 201 and added["identity"] == "person_b"
    status, listed = _http(real_handler, f"apigw_{version}_list")
    assert status == 200 and [i["identity"] for i in listed["identities"]] == ["person_b"]
    status, identified = _http(real_handler, f"apigw_{version}_identify")
    assert status == 200 and identified["faces"][0]["identity"] == "person_b"
