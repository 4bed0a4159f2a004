"""The HTTP API as data: each route binds a method and a path to an operation of :mod:`frs.api.operations`.

A route takes the parameters its path names from the path, the operation's images from the body and every
other parameter from the query string or the body's fields; ``fixed`` parameters are set by the route itself
(the seed's aliases work on the ``default`` gallery). The router (:mod:`frs.api.http`) and the OpenAPI
document (:mod:`frs.api.openapi`) are generated from this table, so the docs cannot drift from the behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from frs.api.operations import BY_NAME, Operation, Param
from frs.api.requests import ACCEPTED, HttpInput
from frs.service import FaceService


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI template, e.g. /galleries/{gallery}/identities
    operation: Operation
    operation_id: str
    summary: str | None = None  # None: the operation's
    fixed: Mapping[str, Any] = field(default_factory=dict)
    tag: str = "gallery"

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(re.findall(r"\{(\w+)\}", self.path))

    @property
    def field_params(self) -> tuple[Param, ...]:
        """The parameters that come from the query string or the body's fields."""
        taken = {*self.path_names, *self.fixed}
        return tuple(p for p in self.operation.params if p.type != "image" and p.name not in taken)

    @property
    def image_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.operation.images)

    def answer(
        self,
        service: FaceService,
        path: Mapping[str, str],
        request: HttpInput,
        guard: Callable[[Operation, Mapping[str, Any], Callable[[], dict[str, Any]]], dict[str, Any]]
        | None = None,
    ) -> tuple[int, Any]:
        """(status, body) for one request; ``guard(operation, fields, execute)`` runs it when given (the
        access check and the audit trail, :mod:`frs.api.guard`)."""
        fields = {**request.fields, **{k: unquote(v) for k, v in path.items()}, **self.fixed}
        operation = self.operation

        def execute() -> dict[str, Any]:
            return operation.run(service, operation.arguments(fields, request.image, f"send {ACCEPTED}"))

        result = execute() if guard is None else guard(operation, fields, execute)
        created = operation.created_status and result.get("created") is True
        return (201 if created else 200), result


def _route(method: str, path: str, operation: str, operation_id: str, **extra: Any) -> Route:
    return Route(method, path, BY_NAME[operation], operation_id, **extra)


_SEED = {"tag": "seed aliases", "fixed": {"gallery": "default"}}

ROUTES: tuple[Route, ...] = (
    _route("POST", "/galleries/{gallery}/identities/{name}/faces", "add", "addFace"),
    _route("GET", "/galleries/{gallery}/identities", "list", "listIdentities"),
    _route("GET", "/galleries/{gallery}/identities/{name}", "get", "getIdentity"),
    _route("DELETE", "/galleries/{gallery}/identities/{name}", "delete", "deleteIdentity"),
    _route("DELETE", "/galleries/{gallery}/faces/{face_id}", "delete_face", "deleteFace"),
    _route("POST", "/galleries/{gallery}/faces/{face_id}/search", "search_face", "searchFace"),
    _route("POST", "/galleries/{gallery}/faces/{face_id}/move", "move_face", "moveFace"),
    _route("POST", "/galleries/{gallery}/identities/{name}/rename", "rename", "renameIdentity"),
    _route("POST", "/galleries/{gallery}/identities/{name}/merge", "merge", "mergeIdentities"),
    _route("POST", "/galleries/{gallery}/identities/{name}/metadata", "update_metadata", "updateMetadata"),
    _route("POST", "/galleries/{gallery}/identify", "identify", "identify"),
    _route("POST", "/galleries/{gallery}/verify", "verify", "verify"),
    _route("PATCH", "/galleries/{gallery}", "update", "updateGallery"),
    _route("GET", "/galleries/{gallery}/identities/{name}/export", "export_identity", "exportIdentity"),
    _route("POST", "/detect", "detect", "detect", tag="faces"),
    _route("GET", "/health", "health", "health", tag="service"),
    # The seed's routes, kept as aliases on the 'default' gallery.
    _route(
        "POST",
        "/add_identity",
        "add",
        "addIdentityLegacy",
        summary="Enrol a face in the default gallery (seed alias)",
        **_SEED,
    ),
    _route(
        "POST",
        "/recognize",
        "identify",
        "recognizeLegacy",
        summary="Identify faces against the default gallery (seed alias)",
        **_SEED,
    ),
)
