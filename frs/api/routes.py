"""The HTTP API as data: every route, what it takes and what it answers.

The router (``frs.api.http``) registers these routes and the OpenAPI document (``frs.api.openapi``) is
generated from the same table, so the docs cannot drift from the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from frs.api.params import (
    optional_bool,
    optional_float,
    optional_int,
    optional_object,
    optional_str,
    required_str,
)
from frs.api.requests import HttpInput
from frs.errors import FRSError
from frs.service import FaceService


@dataclass(frozen=True)
class Call:
    path: dict[str, str]
    input: HttpInput

    def param(self, name: str) -> str:
        return unquote(self.path[name])


Endpoint = Callable[[FaceService, Call], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI template, e.g. /galleries/{gallery}/identities
    operation_id: str
    summary: str
    endpoint: Endpoint
    body: str | None = None  # None | "image" | "verify"
    query: tuple[str, ...] = ()
    status: int = 200
    errors: tuple[int, ...] = ()
    tag: str = "gallery"
    response: str = "Object"


def _metadata(call: Call) -> dict[str, Any] | None:
    return optional_object(call.input.fields, "metadata")


def _add(service: FaceService, call: Call, gallery: str, name: str) -> dict[str, Any]:
    fields = call.input.fields
    return service.add(
        gallery,
        name,
        call.input.require_image(),
        metadata=_metadata(call),
        largest=optional_bool(fields, "largest"),
    )


def _identify(service: FaceService, call: Call, gallery: str) -> dict[str, Any]:
    fields = call.input.fields
    return service.identify(
        gallery,
        call.input.require_image(),
        top_k=optional_int(fields, "top_k", 5),
        threshold=optional_float(fields, "threshold"),
    )


def _verify(service: FaceService, call: Call) -> dict[str, Any]:
    fields = call.input.fields
    threshold = optional_float(fields, "threshold")
    image = call.input.require_image()
    if call.input.image_b is not None:
        return service.verify_images(image, call.input.image_b, threshold)
    name = optional_str(fields, "name")
    if name is None:
        raise FRSError("bad_request", "verify needs a second image ('file_b' / 'image_b_base64') or a 'name'")
    return service.verify_identity(call.param("gallery"), name, image, threshold=threshold)


IMAGE_ERRORS = (400, 413, 415, 422, 503)

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/galleries/{gallery}/identities/{name}/faces",
        "addFace",
        "Enrol a face for an identity",
        lambda s, c: _add(s, c, c.param("gallery"), c.param("name")),
        body="image",
        query=("largest",),
        status=201,
        errors=(*IMAGE_ERRORS, 409),
        response="AddResult",
    ),
    Route(
        "GET",
        "/galleries/{gallery}/identities",
        "listIdentities",
        "List identities (paginated)",
        lambda s, c: s.list_identities(
            c.param("gallery"),
            prefix=optional_str(c.input.fields, "prefix"),
            page_size=optional_int(c.input.fields, "page_size", 100),
            page_token=optional_str(c.input.fields, "page_token"),
        ),
        query=("prefix", "page_size", "page_token"),
        errors=(400, 503),
        response="IdentityPage",
    ),
    Route(
        "GET",
        "/galleries/{gallery}/identities/{name}",
        "getIdentity",
        "An identity with its faces",
        lambda s, c: s.get(c.param("gallery"), c.param("name")),
        errors=(400, 404, 503),
        response="Identity",
    ),
    Route(
        "DELETE",
        "/galleries/{gallery}/identities/{name}",
        "deleteIdentity",
        "Delete an identity and erase its embeddings",
        lambda s, c: s.delete(c.param("gallery"), c.param("name")),
        errors=(400, 404, 409, 503),
    ),
    Route(
        "DELETE",
        "/galleries/{gallery}/faces/{face_id}",
        "deleteFace",
        "Delete one enrolled face",
        lambda s, c: s.delete_face(c.param("gallery"), c.param("face_id")),
        errors=(400, 404, 409, 503),
    ),
    Route(
        "POST",
        "/galleries/{gallery}/identify",
        "identify",
        "Who is in this picture? (every face)",
        lambda s, c: _identify(s, c, c.param("gallery")),
        body="image",
        query=("top_k", "threshold"),
        errors=IMAGE_ERRORS,
        response="IdentifyResult",
    ),
    Route(
        "POST",
        "/galleries/{gallery}/verify",
        "verify",
        "Verify a face against an identity ('name') or a second image",
        _verify,
        body="verify",
        query=("name", "threshold"),
        errors=(*IMAGE_ERRORS, 404),
        response="VerifyResult",
    ),
    Route(
        "POST",
        "/detect",
        "detect",
        "Detect faces: boxes, scores and 5 landmarks",
        lambda s, c: s.detect(c.input.require_image()),
        body="image",
        errors=IMAGE_ERRORS,
        tag="faces",
        response="DetectResult",
    ),
    Route(
        "GET",
        "/health",
        "health",
        "Liveness and the loaded model pack",
        lambda s, c: {"status": "ok", "pack": s.analyzer.pack.name, "dim": s.analyzer.pack.dim},
        tag="service",
    ),
    # The seed's routes, kept as aliases on the 'default' gallery.
    Route(
        "POST",
        "/add_identity",
        "addIdentityLegacy",
        "Enrol a face in the default gallery (seed alias)",
        lambda s, c: _add(s, c, "default", required_str(c.input.fields, "name")),
        body="image",
        query=("name",),
        status=201,
        errors=(*IMAGE_ERRORS, 409),
        tag="seed aliases",
        response="AddResult",
    ),
    Route(
        "POST",
        "/recognize",
        "recognizeLegacy",
        "Identify faces against the default gallery (seed alias)",
        lambda s, c: _identify(s, c, "default"),
        body="image",
        query=("top_k", "threshold"),
        errors=IMAGE_ERRORS,
        tag="seed aliases",
        response="IdentifyResult",
    ),
)
