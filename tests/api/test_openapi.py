"""The OpenAPI document describes exactly the routes the router serves, with bodies and error schemas."""

from __future__ import annotations

from typing import Any

from jsonschema_rs import Draft202012Validator

from frs.api.app import Application
from frs.api.guard import Guard
from frs.api.http import build_router
from frs.api.openapi import openapi_document
from frs.api.routes import ROUTES
from frs.config import Settings
from frs.errors import ERROR_STATUS
from frs.service import FaceService
from tests.api.conftest import b64


def test_every_served_route_is_documented() -> None:
    router = build_router(Guard(FaceService(Settings())), "http")
    served = {
        (method, rule.replace("<", "{").replace(">", "}"))
        for (rule, methods, *_rest) in router._routes
        for method in methods
    }
    documented = {(m.upper(), path) for path, ops in openapi_document()["paths"].items() for m in ops}
    assert documented == served - {("GET", "/openapi.json"), ("GET", "/docs")}
    assert len(documented) == len(ROUTES)


#: What each image route reads from a body, written out by hand (the document is generated from the
#: declarations; this says what it must come to).
BODY_FIELDS = {
    ("post", "/detect"): {"image"},
    ("post", "/galleries/{gallery}/identify"): {
        "image",
        "top_k",
        "threshold",
        "target_fpir",
        "quality_filter",
    },
    ("post", "/recognize"): {"image", "top_k", "threshold", "target_fpir", "quality_filter"},
    ("post", "/galleries/{gallery}/identities/{name}/faces"): {
        "image",
        "metadata",
        "largest",
        "quality_filter",
        "source",
        "expires_at",
    },
    ("post", "/add_identity"): {
        "image",
        "name",
        "metadata",
        "largest",
        "quality_filter",
        "source",
        "expires_at",
    },
    ("post", "/galleries/{gallery}/verify"): {"image", "image_b", "name", "threshold", "target_far"},
}


#: Routes without images whose parameters include an object or a list: a JSON body only.
JSON_BODY_FIELDS = {
    ("post", "/galleries/{gallery}/identities/{name}/merge"): {"from"},
    ("post", "/galleries/{gallery}/identities/{name}/metadata"): {"metadata", "mode", "expires_at"},
}


def test_update_metadata_takes_a_null_expiry_in_its_body_only() -> None:
    operation = openapi_document()["paths"]["/galleries/{gallery}/identities/{name}/metadata"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["expires_at"]["type"] == ["string", "null"]  # null clears the expiry
    assert body["required"] == []  # metadata, expires_at or both: the service says which is missing
    query = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}
    assert query["expires_at"]["type"] == "string"  # a query string cannot carry null


def test_request_bodies_are_exact_per_route() -> None:
    paths = openapi_document()["paths"]
    with_bodies = {(m, p) for p, ops in paths.items() for m, op in ops.items() if "requestBody" in op}
    assert with_bodies == set(BODY_FIELDS) | set(JSON_BODY_FIELDS)
    for (method, path), expected in JSON_BODY_FIELDS.items():
        content = paths[path][method]["requestBody"]["content"]
        assert set(content) == {"application/json"}
        assert set(content["application/json"]["schema"]["properties"]) == expected, path
    for (method, path), expected in BODY_FIELDS.items():
        content = paths[path][method]["requestBody"]["content"]
        assert set(content["application/json"]["schema"]["properties"]) == expected, path
        assert set(content["multipart/form-data"]["schema"]["properties"]) == expected, path
        assert "image" in content["multipart/form-data"]["schema"]["required"]
        assert {"image/jpeg", "image/png", "image/webp"} <= set(content)
    detect = paths["/detect"]["post"]
    assert detect["parameters"] == []  # nothing but the image: no metadata, top_k or largest
    seed_add = paths["/add_identity"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert seed_add["required"] == ["image", "name"]


def test_add_routes_document_201_and_200_and_their_errors() -> None:
    paths = openapi_document()["paths"]
    for path in ("/galleries/{gallery}/identities/{name}/faces", "/add_identity"):
        responses = paths[path]["post"]["responses"]
        assert {"200", "201", "400", "409", "413", "415", "422"} <= set(responses)
    assert "201" not in paths["/galleries/{gallery}/identify"]["post"]["responses"]
    error_schema = openapi_document()["components"]["schemas"]["Error"]
    assert set(error_schema["properties"]["error"]["properties"]["code"]["enum"]) == set(ERROR_STATUS)
    assert "low_quality" in ERROR_STATUS


def test_query_parameters_are_typed() -> None:
    paths = openapi_document()["paths"]
    listing = paths["/galleries/{gallery}/identities"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["gallery"]["in"] == "path" and params["gallery"]["required"] is True
    assert params["page_size"]["schema"]["type"] == "integer"
    identify = {p["name"]: p["schema"] for p in paths["/galleries/{gallery}/identify"]["post"]["parameters"]}
    assert identify["top_k"] == {**identify["top_k"], "type": "integer", "minimum": 1, "maximum": 100}
    assert (
        identify["target_fpir"]["exclusiveMinimum"] == 0 and identify["target_fpir"]["exclusiveMaximum"] == 1
    )
    assert identify["quality_filter"]["enum"] == ["none", "low", "medium", "high"]


def test_one_name_one_meaning() -> None:
    """A parameter name is declared with one type and one description wherever it appears."""
    from frs.api.operations import OPERATIONS

    seen: dict[str, tuple[str, str]] = {}
    for operation in OPERATIONS:
        for param in operation.params:
            assert seen.setdefault(param.name, (param.type, param.description)) == (
                param.type,
                param.description,
            ), (operation.name, param.name)


def _closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties closed to others: an answer field the document
    does not describe fails validation."""
    if isinstance(schema, dict):
        closed = {k: _closed(v) for k, v in schema.items()}
        if "properties" in schema and schema.get("type") == "object":
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


def test_real_answers_match_their_documented_schemas(app: Application, photo: dict[str, bytes]) -> None:
    components = _closed(openapi_document()["components"])

    def check(answer: dict[str, Any], schema: str) -> None:
        assert answer.pop("ok") is True, answer
        validator = Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": components})
        validator.validate(answer)

    def call(**event: Any) -> dict[str, Any]:
        return app(event, None)

    check(call(action="health"), "Health")
    check(call(action="detect", image=b64(photo["solvay_conference_1927.jpg"])), "DetectResult")
    empty = call(action="identify", image=b64(photo["person_b_2.jpg"]))
    check(empty, "IdentifyResult")
    added = call(action="add", name="Ardern", image=b64(photo["person_b_1.jpg"]), metadata={"a": 1})
    face_id = added["face_id"]
    check(added, "AddResult")
    check(call(action="identify", image=b64(photo["solvay_conference_1927.jpg"]), top_k=1), "IdentifyResult")
    check(call(action="verify", image=b64(photo["person_b_2.jpg"]), name="Ardern"), "VerifyResult")
    pair = call(action="verify", image=b64(photo["person_b_2.jpg"]), image_b=b64(photo["person_a_1.jpg"]))
    check(pair, "VerifyResult")
    check(call(action="get", name="Ardern"), "Identity")
    check(call(action="list"), "IdentityPage")
    check(call(action="delete_face", face_id=face_id), "DeleteFaceResult")
    check(call(action="delete", name="Ardern"), "DeleteResult")
    error = call(action="get", name="Ardern")
    assert error.pop("ok") is False
    Draft202012Validator({"$ref": "#/components/schemas/Error", "components": components}).validate(error)
