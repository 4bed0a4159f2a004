"""The OpenAPI document describes exactly the routes the router serves, with bodies and error schemas."""

from __future__ import annotations

from frs.api.http import build_router
from frs.api.openapi import openapi_document
from frs.api.routes import ROUTES
from frs.config import Settings
from frs.errors import ERROR_STATUS
from frs.service import FaceService


def test_every_served_route_is_documented() -> None:
    router = build_router(FaceService(Settings()))
    served = {
        (method, rule.replace("<", "{").replace(">", "}"))
        for (rule, methods, *_rest) in router._routes
        for method in methods
    }
    documented = {(m.upper(), path) for path, ops in openapi_document()["paths"].items() for m in ops}
    assert documented == served - {("GET", "/openapi.json"), ("GET", "/docs")}
    assert len(documented) == len(ROUTES)


def test_image_routes_describe_their_bodies_and_errors() -> None:
    paths = openapi_document()["paths"]
    add = paths["/galleries/{gallery}/identities/{name}/faces"]["post"]
    content = add["requestBody"]["content"]
    assert {"multipart/form-data", "image/jpeg", "application/json"} <= set(content)
    assert content["multipart/form-data"]["schema"]["required"] == ["file"]
    assert {"201", "400", "413", "415", "422"} <= set(add["responses"])
    error_schema = openapi_document()["components"]["schemas"]["Error"]
    assert set(error_schema["properties"]["error"]["properties"]["code"]["enum"]) == set(ERROR_STATUS)


def test_query_parameters_are_typed() -> None:
    listing = openapi_document()["paths"]["/galleries/{gallery}/identities"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert params["gallery"]["in"] == "path" and params["gallery"]["required"] is True
    assert params["page_size"]["schema"]["type"] == "integer"
