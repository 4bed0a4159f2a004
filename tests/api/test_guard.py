"""The access policy through the Lambda application: IAM and JWT callers of REST v1 and HTTP v2 events."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from frs.api.app import Application
from frs.api.local_server import dev_authorizer, http_v2_event
from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import clear_gallery_cache
from frs.service import FaceService
from tests.api.conftest import b64
from tests.api.events import json_body, response_json, v1_event, v2_event

ROLE = "arn:aws:sts::123456789012:assumed-role/frs-site-a/session"
OTHER_ROLE = "arn:aws:sts::123456789012:assumed-role/frs-other/session"
POLICY = {
    "rules": [
        {"principal": "arn:aws:sts::123456789012:assumed-role/frs-site-a/*", "galleries": ["a"],
         "operations": ["read", "write", "delete"]},
        {"principal": "jwt:scope=frs/read", "galleries": ["a"], "operations": ["read"]},
    ]
}  # fmt: skip


@pytest.fixture
def guarded(local_settings: Settings) -> Iterator[Application]:
    yield Application(FaceService(dataclasses.replace(local_settings, access_policy=json.dumps(POLICY))))
    clear_gallery_cache()


def iam(arn: str) -> Callable[[dict[str, Any]], None]:
    def apply(event: dict[str, Any]) -> None:
        if event.get("version") == "2.0":
            event["requestContext"]["authorizer"] = {"iam": {"userArn": arn, "accountId": "123456789012"}}
        else:
            event["requestContext"]["identity"]["userArn"] = arn

    return apply


def jwt(scopes: list[str]) -> Callable[[dict[str, Any]], None]:
    def apply(event: dict[str, Any]) -> None:
        claims = {"sub": "user-1", "iss": "https://issuer.example", "scope": " ".join(scopes)}
        if event.get("version") == "2.0":
            event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": scopes}}
        else:
            event["requestContext"]["authorizer"] = {"claims": claims}

    return apply


def call(
    app: Application, build: Callable[..., dict[str, Any]], who: Callable[[dict[str, Any]], None],
    method: str, path: str, **kwargs: Any,
) -> tuple[int, Any]:  # fmt: skip
    event = build(method, path, **kwargs)
    who(event)
    response = app(event, None)
    return int(response["statusCode"]), response_json(response) if response.get("body") else None


def requests(gallery: str, photo: dict[str, bytes], face_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    """One request per gallery operation of the HTTP API, on ``gallery``."""
    jpeg = {"body": photo["person_b_2.jpg"], "content_type": "image/jpeg"}
    return [
        ("POST", f"/galleries/{gallery}/identities/Ardern/faces", jpeg),
        ("GET", f"/galleries/{gallery}/identities", {}),
        ("GET", f"/galleries/{gallery}/identities/Ardern", {}),
        ("POST", f"/galleries/{gallery}/identify", jpeg),
        ("POST", f"/galleries/{gallery}/verify", {**jpeg, "query": {"name": "Ardern"}}),
        ("DELETE", f"/galleries/{gallery}/faces/{face_id}", {}),
        ("DELETE", f"/galleries/{gallery}/identities/Ardern", {}),
    ]  # fmt: skip


@pytest.mark.parametrize("build", [v1_event, v2_event], ids=["rest-v1", "http-v2"])
def test_a_principal_allowed_on_a_only_is_refused_on_b_for_every_operation(
    guarded: Application, build: Callable[..., dict[str, Any]], photo: dict[str, bytes]
) -> None:
    # Gallery b exists (enrolled through a trusted direct invocation), so a refusal could leak its existence.
    event = {"action": "add", "gallery": "b", "name": "Ardern", "image": b64(photo["person_b_1.jpg"])}
    added = guarded(event, None)
    assert added["ok"], added
    refusals = []
    for gallery in ("b", "never-created"):
        for method, path, kwargs in requests(gallery, photo, added["face_id"]):
            status, body = call(guarded, build, iam(ROLE), method, path, **kwargs)
            assert status == 403 and body["error"]["code"] == "forbidden", (method, path, body)
            refusals.append(body)
    # No hint whether the gallery exists: b (existing) and never-created get the same answers.
    half = len(refusals) // 2
    assert refusals[:half] == refusals[half:]
    assert guarded({"action": "get", "gallery": "b", "name": "Ardern"}, None)["face_count"] == 1

    # The same caller succeeds on a, for every operation.
    status, enrolled = call(guarded, build, iam(ROLE), "POST", "/galleries/a/identities/Ardern/faces",
                            body=photo["person_b_1.jpg"], content_type="image/jpeg")  # fmt: skip
    assert status == 201
    expected = [201, 200, 200, 200, 200, 200, 200]
    for (method, path, kwargs), want in zip(requests("a", photo, enrolled["face_id"]), expected, strict=True):
        status, body = call(guarded, build, iam(ROLE), method, path, **kwargs)
        assert status == want, (method, path, body)


@pytest.mark.parametrize("build", [v1_event, v2_event], ids=["rest-v1", "http-v2"])
def test_jwt_scopes_grant_what_the_rule_lists(
    guarded: Application, build: Callable[..., dict[str, Any]], photo: dict[str, bytes]
) -> None:
    assert guarded({"action": "add", "gallery": "a", "name": "Ardern", "image": b64(photo["person_b_1.jpg"])},
                   None)["ok"]  # fmt: skip
    reader = jwt(["frs/read"])
    assert call(guarded, build, reader, "GET", "/galleries/a/identities/Ardern")[0] == 200
    status, body = call(guarded, build, reader, "DELETE", "/galleries/a/identities/Ardern")
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert call(guarded, build, reader, "GET", "/galleries/b/identities/Ardern")[0] == 403
    assert call(guarded, build, jwt(["frs/other"]), "GET", "/galleries/a/identities")[0] == 403


def test_unidentified_callers_other_principals_and_the_seed_aliases_are_refused(
    guarded: Application, photo: dict[str, bytes]
) -> None:
    nobody = lambda event: None  # noqa: E731
    assert call(guarded, v2_event, nobody, "GET", "/galleries/a/identities")[0] == 403
    assert call(guarded, v2_event, iam(OTHER_ROLE), "GET", "/galleries/a/identities")[0] == 403
    body, ctype = json_body({"name": "X", "image": b64(photo["person_b_1.jpg"])})
    status, _ = call(guarded, v2_event, iam(ROLE), "POST", "/add_identity", body=body, content_type=ctype)
    assert status == 403  # the alias works on the 'default' gallery, which ROLE may not touch
    # Operations on no gallery stay open to every authenticated caller.
    status, health = call(guarded, v2_event, iam(OTHER_ROLE), "GET", "/health")
    assert status == 200 and health["access"] == {"policy": "inline", "rules": 2}


def test_direct_invocations_are_trusted(guarded: Application, photo: dict[str, bytes]) -> None:
    result = guarded(
        {"action": "add", "gallery": "z", "name": "A", "image": b64(photo["person_b_1.jpg"])}, None
    )
    assert result["ok"] and result["created"]


def test_without_a_policy_every_caller_may_use_every_gallery_and_health_says_so(app: Application) -> None:
    status, _ = call(app, v2_event, iam(OTHER_ROLE), "GET", "/galleries/b/identities")
    assert status == 200
    status, health = call(app, v2_event, iam(OTHER_ROLE), "GET", "/health")
    assert health["access"]["policy"] is None and "every gallery" in health["access"]["note"]


def test_a_malformed_policy_fails_init(local_settings: Settings) -> None:
    for bad in ('{"rules": [{"principal": "arn:*"}]}', "{", '{"rules": [1]}'):
        with pytest.raises(FRSError) as caught:
            Application(FaceService(dataclasses.replace(local_settings, access_policy=bad)))
        assert caught.value.code == "misconfigured" and "FRS_ACCESS_POLICY" in caught.value.message
    with pytest.raises(FRSError) as from_env:
        Settings.from_env({"FRS_ACCESS_POLICY": "{}"}) and Application(
            FaceService(Settings.from_env({"FRS_ACCESS_POLICY": "{}"}))
        )
    assert from_env.value.code == "misconfigured"


def test_frs_serve_turns_its_development_header_into_a_request_context(guarded: Application) -> None:
    assert dev_authorizer(ROLE) == {"iam": {"userArn": ROLE}}
    assert dev_authorizer("jwt:sub=u,scope=frs/read frs/x") == {
        "jwt": {"claims": {"sub": "u", "scope": "frs/read frs/x"}, "scopes": ["frs/read", "frs/x"]}
    }
    assert dev_authorizer("bob") is None
    event = http_v2_event("GET", "/galleries/a/identities", {"X-FRS-Principal": ROLE}, b"", "127.0.0.1")
    assert "x-frs-principal" not in event["headers"]
    assert int(guarded(event, None)["statusCode"]) == 200
    refused = http_v2_event("GET", "/galleries/b/identities", {"X-FRS-Principal": ROLE}, b"", "127.0.0.1")
    assert int(guarded(refused, None)["statusCode"]) == 403
