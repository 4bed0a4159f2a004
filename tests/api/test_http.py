"""API Gateway REST (v1) and HTTP API (v2) events: every route, every body encoding, every error status."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from frs.api.app import Application, event_kind
from tests.access.policies import NO_POLICY
from tests.api.conftest import b64
from tests.api.events import json_body, multipart, response_json, v1_event, v2_event

EventBuilder = Callable[..., dict[str, Any]]
BUILDERS = pytest.mark.parametrize("build", [v1_event, v2_event], ids=["rest-v1", "http-v2"])


def send(app: Application, build: EventBuilder, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    response = app(build(method, path, **kwargs), None)
    body = response_json(response) if response.get("body") else None
    return int(response["statusCode"]), body


def test_event_kinds_are_recognised() -> None:
    assert event_kind(v1_event("GET", "/health")) == "rest"
    assert event_kind(v2_event("GET", "/health")) == "http"
    assert event_kind({"action": "health"}) == "direct"
    function_url = v2_event("GET", "/health")
    function_url["requestContext"]["domainName"] = "abc.lambda-url.eu-west-1.on.aws"
    assert event_kind(function_url) == "http"


@BUILDERS
def test_enrol_and_identify_with_every_body_encoding(
    app: Application, build: EventBuilder, photo: dict[str, bytes]
) -> None:
    body, ctype = multipart({"image": photo["person_b_1.jpg"], "metadata": json.dumps({"team": "blue"})})
    status, added = send(
        app, build, "POST", "/galleries/site1/identities/Ardern/faces", body=body, content_type=ctype
    )
    assert status == 201 and added["identity"] == "Ardern" and added["created"] is True
    assert set(added) == {
        "face_id",
        "identity",
        "bbox",
        "det_score",
        "quality",
        "face_count",
        "created",
        "expires_at",
    }

    # The same image again: nothing is created, and the status says so.
    status, again = send(
        app, build, "POST", "/galleries/site1/identities/Ardern/faces", body=body, content_type=ctype
    )
    assert status == 200 and again["created"] is False and again["face_id"] == added["face_id"]

    status, raw = send(
        app,
        build,
        "POST",
        "/galleries/site1/identities/Macron/faces",
        body=photo["person_a_1.jpg"],
        content_type="image/jpeg",
    )
    assert status == 201 and raw["identity"] == "Macron"

    body, ctype = json_body({"image": b64(photo["person_b_2.jpg"]), "top_k": 1})
    status, result = send(
        app, build, "POST", "/galleries/site1/identify", body=body, content_type=ctype, base64_body=False
    )
    assert status == 200 and result["faces"][0]["identity"] == "Ardern"
    assert result["faces"][0]["candidates"] == [
        {"identity": "Ardern", "similarity": result["faces"][0]["similarity"]}
    ]

    status, listing = send(app, build, "GET", "/galleries/site1/identities", query={"page_size": "1"})
    assert status == 200 and [i["identity"] for i in listing["identities"]] == ["Ardern"]
    status, got = send(app, build, "GET", "/galleries/site1/identities/Ardern")
    assert status == 200 and got["metadata"] == {"team": "blue"}


@BUILDERS
def test_older_image_field_names_are_still_accepted(
    app: Application, build: EventBuilder, photo: dict[str, bytes]
) -> None:
    body, ctype = multipart({"file": photo["person_b_1.jpg"]})
    status, added = send(
        app, build, "POST", "/galleries/g/identities/Ardern/faces", body=body, content_type=ctype
    )
    assert status == 201 and added["identity"] == "Ardern"
    body, ctype = multipart({"file": photo["person_b_2.jpg"], "file_b": photo["impostor_2.jpg"]})
    status, pair = send(app, build, "POST", "/galleries/g/verify", body=body, content_type=ctype)
    assert status == 200 and pair["match"] is False
    payload = {
        "image_base64": b64(photo["person_b_2.jpg"])["base64"],
        "image_b_base64": b64(photo["person_b_1.jpg"])["base64"],
    }
    body, ctype = json_body(payload)
    status, same = send(
        app, build, "POST", "/galleries/g/verify", body=body, content_type=ctype, base64_body=False
    )
    assert status == 200 and same["match"] is True


@BUILDERS
def test_a_field_comes_from_the_query_or_the_body_not_both(
    app: Application, build: EventBuilder, photo: dict[str, bytes]
) -> None:
    body, ctype = json_body({"image": b64(photo["person_b_2.jpg"]), "top_k": 3})
    status, error = send(
        app, build, "POST", "/galleries/g/identify", body=body, content_type=ctype, base64_body=False,
        query={"top_k": "2"},
    )  # fmt: skip
    assert status == 400 and error["error"]["code"] == "bad_request" and "top_k" in error["error"]["message"]
    status, fine = send(
        app, build, "POST", "/galleries/g/identify", body=photo["person_b_2.jpg"], content_type="image/jpeg",
        query={"top_k": "2", "target_fpir": "0.05", "quality_filter": "low"},
    )  # fmt: skip
    assert status == 200 and fine["operating_point"]["target_fpir"] == 0.05
    assert fine["operating_point"]["quality_filter"] == "low"


@BUILDERS
def test_verify_delete_and_detect(app: Application, build: EventBuilder, photo: dict[str, bytes]) -> None:
    status, added = send(
        app,
        build,
        "POST",
        "/galleries/g/identities/Zo%C3%AB%20A/faces",
        body=photo["person_b_1.jpg"],
        content_type="image/jpeg",
    )
    assert status == 201 and added["identity"] == "Zoë A"  # percent-encoded path parameters are decoded

    body, ctype = multipart({"image": photo["person_b_2.jpg"], "name": "Zoë A"})
    status, verdict = send(app, build, "POST", "/galleries/g/verify", body=body, content_type=ctype)
    assert status == 200 and verdict["match"] is True and verdict["identity"] == "Zoë A"

    body, ctype = multipart({"image": photo["person_b_2.jpg"], "image_b": photo["impostor_2.jpg"]})
    status, pair = send(app, build, "POST", "/galleries/g/verify", body=body, content_type=ctype)
    assert status == 200 and pair["match"] is False and "identity" not in pair

    status, detected = send(app, build, "POST", "/detect", body=photo["newton.png"], content_type="image/png")
    assert status == 200 and len(detected["faces"]) == 1
    assert set(detected["faces"][0]) == {"bbox", "det_score", "landmarks", "quality"}

    status, gone = send(app, build, "DELETE", f"/galleries/g/faces/{added['face_id']}")
    assert status == 200 and gone == {"face_id": added["face_id"], "identity": "Zoë A"}
    status, deleted = send(app, build, "DELETE", "/galleries/g/identities/Zo%C3%AB%20A")
    assert status == 200 and deleted == {"identity": "Zoë A", "faces_removed": 0, "face_ids": []}
    status, missing = send(app, build, "GET", "/galleries/g/identities/Zo%C3%AB%20A")
    assert status == 404 and missing["error"]["code"] == "not_found"


@BUILDERS
def test_seed_aliases(app: Application, build: EventBuilder, photo: dict[str, bytes]) -> None:
    body, ctype = multipart({"image": photo["person_a_1.jpg"]})
    status, added = send(
        app, build, "POST", "/add_identity", body=body, content_type=ctype, query={"name": "Macron"}
    )
    assert status == 201 and added["identity"] == "Macron"
    body, ctype = multipart({"image": photo["person_a_2.jpg"]})
    status, result = send(app, build, "POST", "/recognize", body=body, content_type=ctype)
    assert status == 200 and result["faces"][0]["identity"] == "Macron"
    status, listing = send(app, build, "GET", "/galleries/default/identities")
    assert [i["identity"] for i in listing["identities"]] == ["Macron"]


@BUILDERS
def test_health_openapi_and_docs(app: Application, build: EventBuilder) -> None:
    assert send(app, build, "GET", "/health") == (
        200,
        {"status": "ok", "pack": "embedded", "dim": 128, **NO_POLICY},
    )
    status, spec = send(app, build, "GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    response = app(build("GET", "/docs"), None)
    assert response["statusCode"] == 200
    assert "swagger-ui" in response["body"].lower() and "/galleries/{gallery}/identify" in response["body"]


@BUILDERS
def test_update_metadata_sets_and_clears_the_expiry_over_http(
    app: Application, build: EventBuilder, photo: dict[str, bytes]
) -> None:
    status, _ = send(
        app, build, "POST", "/galleries/g/identities/Ardern/faces", body=photo["person_b_1.jpg"],
        content_type="image/jpeg",
    )  # fmt: skip
    assert status == 201
    path = "/galleries/g/identities/Ardern/metadata"

    def post(value: dict[str, Any], **kwargs: Any) -> tuple[int, Any]:
        body, ctype = json_body(value)
        return send(app, build, "POST", path, body=body, content_type=ctype, **kwargs)

    status, dated = post({"expires_at": "2099-01-01T00:00:00Z"})  # no metadata: only the expiry changes
    assert status == 200 and dated["expires_at"] == "2099-01-01T00:00:00.000Z" and dated["metadata"] == {}
    status, kept = post({"metadata": {"team": "blue"}})
    assert status == 200 and kept["expires_at"] == "2099-01-01T00:00:00.000Z"
    status, queried = post({"metadata": {"team": "red"}}, query={"expires_at": "2098-01-01T00:00:00Z"})
    assert status == 200 and queried["expires_at"] == "2098-01-01T00:00:00.000Z"
    status, cleared = post({"expires_at": None})
    assert status == 200 and cleared["expires_at"] is None and cleared["metadata"] == {"team": "red"}
    for bad in ({}, {"expires_at": "soon", "metadata": {"team": "green"}}, {"expires_at": 5}):
        status, error = post(bad)
        assert status == 400 and error["error"]["code"] == "bad_request", bad
    status, got = send(app, build, "GET", "/galleries/g/identities/Ardern")
    assert status == 200 and got["metadata"] == {"team": "red"} and got["expires_at"] is None


SEVEN_MB = b"\xff\xd8" + b"\0" * (7 * 1024 * 1024)


@BUILDERS
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/detect", {}, 400, "bad_request"),
        ("POST", "/detect", {"body": b"\xff\xd8\xff"}, 415, "unsupported_media_type"),
        ("POST", "/detect", {"body": b"hello", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ("POST", "/detect", {"body": b"hello", "content_type": "image/jpeg"}, 400, "invalid_image"),
        (
            "POST",
            "/detect",
            {"body": b"GIF89a\0\0\0\0", "content_type": "image/gif"},
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/detect",
            {"body": b"%PDF-1.4 ...", "content_type": "application/pdf"},
            415,
            "unsupported_media_type",
        ),
        ("POST", "/detect", {"body": SEVEN_MB, "content_type": "image/jpeg"}, 413, "payload_too_large"),
        (
            "POST",
            "/detect",
            {"body": b"{not json", "content_type": "application/json", "base64_body": False},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/detect",
            {"body": b'["a list"]', "content_type": "application/json", "base64_body": False},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/detect",
            {"body": b'{"image": 12}', "content_type": "application/json", "base64_body": False},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/detect",
            {"body": b'{"image_base64": "@@@@"}', "content_type": "application/json", "base64_body": False},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/galleries/g/identify",
            {
                "body": b'--x\r\nContent-Disposition: form-data; name="other"\r\n\r\nv\r\n--x--\r\n',
                "content_type": "multipart/form-data; boundary=x",
            },
            400,
            "bad_request",
        ),
        (
            "POST",
            "/galleries/g/identify",
            {"body": b"x", "content_type": "multipart/form-data"},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/galleries/g/identities/a%2Fb/faces",
            {"body": b"x", "content_type": "image/jpeg"},
            400,
            "bad_request",
        ),
        (
            "POST",
            "/galleries/..%2Fx/identify",
            {"body": b"x", "content_type": "image/jpeg"},
            400,
            "bad_request",
        ),
        ("GET", "/galleries/g/identities", {"query": {"page_size": "zero"}}, 400, "bad_request"),
        ("GET", "/galleries/g/identities/nobody", {}, 404, "not_found"),
        ("DELETE", "/galleries/g/faces/00000000-0000-0000-0000-000000000000", {}, 404, "not_found"),
        ("GET", "/no/such/route", {}, 404, "not_found"),
        ("POST", "/add_identity", {"body": b"x", "content_type": "image/jpeg"}, 400, "bad_request"),
    ],
)
def test_errors_are_documented(
    app: Application,
    build: EventBuilder,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    got_status, body = send(app, build, method, path, **kwargs)
    assert got_status == status
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in json.dumps(body)


@BUILDERS
def test_invalid_base64_proxy_body(app: Application, build: EventBuilder) -> None:
    event = build("POST", "/detect", body=b"abc", content_type="image/jpeg")
    event["body"] = "***not base64***"
    response = app(event, None)
    assert response["statusCode"] == 400 and response_json(response)["error"]["code"] == "bad_request"


@BUILDERS
def test_face_errors_are_422(app: Application, build: EventBuilder, photo: dict[str, bytes]) -> None:
    import io

    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGB", (400, 300), (120, 120, 120)).save(blank, "JPEG")
    status, body = send(
        app,
        build,
        "POST",
        "/galleries/g/identities/x/faces",
        body=blank.getvalue(),
        content_type="image/jpeg",
    )
    assert status == 422 and body["error"]["code"] == "no_face"
    status, body = send(
        app,
        build,
        "POST",
        "/galleries/g/identities/x/faces",
        body=photo["solvay_conference_1927.jpg"],
        content_type="image/jpeg",
    )
    assert (
        status == 422
        and body["error"]["code"] == "multiple_faces"
        and body["error"]["details"]["count"] == 29
    )


def test_unexpected_errors_are_500_without_a_trace(app: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(app.service, "detect", explode)
    response = app(v2_event("POST", "/detect", body=b"x", content_type="image/jpeg"), None)
    assert response["statusCode"] == 500
    assert response_json(response) == {
        "error": {"code": "internal_error", "message": "internal error; see the function's logs"}
    }
    direct = app({"action": "detect", "image": {"base64": "aGVsbG8="}}, None)
    assert direct["ok"] is False and direct["error"]["code"] == "internal_error"


@BUILDERS
@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/galleries/g/identify", {"target_fpir": "0"}),
        ("/galleries/g/identify", {"quality_filter": "best"}),
        ("/galleries/g/identify", {"top_k": "1000"}),
        ("/galleries/g/verify", {"target_far": "1", "name": "a"}),
        ("/galleries/g/identities/a/faces", {"quality_filter": "auto"}),
    ],
)
def test_bad_options_are_400(app: Application, build: EventBuilder, path: str, query: dict[str, str]) -> None:
    status, body = send(app, build, "POST", path, body=b"x", content_type="image/jpeg", query=query)
    assert status == 400 and body["error"]["code"] == "bad_request"


@BUILDERS
def test_a_face_below_the_filter_is_422_low_quality(
    app: Application, build: EventBuilder, photo: dict[str, bytes]
) -> None:
    bgr = cv2.imdecode(np.frombuffer(photo["person_b_1.jpg"], np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    dim = cv2.imencode(".jpg", np.clip(bgr.astype(np.float32) * 0.05 + 0.5, 0, 255).astype(np.uint8))[1]
    status, body = send(
        app, build, "POST", "/galleries/g/identities/a/faces", body=dim.tobytes(), content_type="image/jpeg",
        query={"quality_filter": "high"},
    )  # fmt: skip
    assert status == 422 and body["error"]["code"] == "low_quality"
    assert "LOW_BRIGHTNESS" in body["error"]["details"]["reasons"]
    assert body["error"]["details"]["quality"]["brightness"] < 0.08


@BUILDERS
def test_an_ir_camera_s_pgm_frame_is_a_photo_like_any_other(
    app: Application, build: EventBuilder, photo: dict[str, bytes]
) -> None:
    """A raw PGM body (what IR cameras write) enrols and is recognised in a JPEG, through every gateway."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo["person_b_1.jpg"])).convert("L").save(buffer, "PPM")
    status, added = send(
        app,
        build,
        "POST",
        "/galleries/ir/identities/Ardern/faces",
        body=buffer.getvalue(),
        content_type="image/x-portable-graymap",
    )
    assert status == 201 and added["identity"] == "Ardern"
    status, result = send(
        app, build, "POST", "/galleries/ir/identify", body=photo["person_b_2.jpg"], content_type="image/jpeg"
    )
    assert status == 200 and result["faces"][0]["identity"] == "Ardern"
