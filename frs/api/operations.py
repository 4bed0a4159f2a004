"""Every operation of the API, declared once: its parameters (type, default, meaning) and its service call.

The direct-event adapter (:mod:`frs.api.direct`), the HTTP routes (:mod:`frs.api.routes`), the OpenAPI
document (:mod:`frs.api.openapi`) and the README's vocabulary tables (:mod:`frs.api.reference`) are all
derived from :data:`OPERATIONS`, so a parameter is named, typed and described in one place.

Where a parameter comes from depends on the surface, never on the operation: a direct event carries every
parameter as a member; an HTTP request takes the ones its path names from the path, the images from the body,
and the rest from the query string or the body's fields (JSON members or multipart fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from frs.api.params import (
    optional_bool,
    optional_float,
    optional_int,
    optional_object,
    optional_str,
    optional_str_list,
)
from frs.config import QUALITY_FILTERS, Settings
from frs.errors import FRSError
from frs.gallery.types import KEEP
from frs.gallery.validation import MAX_IDENTITY_NAME, MAX_PAGE_SIZE, MAX_TOP_K
from frs.service import FaceService

ParamType = Literal["string", "integer", "number", "boolean", "object", "array", "image"]
#: How a field of each type is read (query strings carry numbers and booleans as text); images are the
#: adapters' business.
_READERS: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
    "string": optional_str,
    "integer": optional_int,
    "number": optional_float,
    "boolean": optional_bool,
    "object": optional_object,
    "array": optional_str_list,
}


@dataclass(frozen=True)
class Param:
    """One request parameter. The same name means the same thing in every operation that takes it."""

    name: str
    type: ParamType
    description: str
    default: Any = None  # applied when absent (None: absent stays None; the service may apply a setting)
    default_doc: str | None = None  # how the docs state a default the service takes from a setting
    required: bool = False
    schema: Mapping[str, Any] = field(default_factory=dict)  # JSON-schema constraints, for OpenAPI
    aliases: tuple[str, ...] = ()  # older names still accepted (documented as such; never in answers)
    # JSON null is a value (it clears what is stored), distinct from absent (read as KEEP: left unchanged).
    null_clears: bool = False

    def read(self, source: Mapping[str, Any]) -> Any:
        """This parameter's value in ``source`` (a direct event, or an HTTP request's fields), typed."""
        if self.required and source.get(self.name) is None:
            raise FRSError("bad_request", f"'{self.name}' is required")
        if self.null_clears and self.name not in source:
            return KEEP
        value = _READERS[self.type](source, self.name)
        if self.null_clears:
            return value
        return self.default if value is None else value

    def documented_default(self) -> str | None:
        if self.default_doc is not None:
            return self.default_doc
        return None if self.default is None else str(self.default).lower()


def _required(param: Param) -> Param:
    return dataclasses.replace(param, required=True)


_IMAGE_FORMS = '{"base64": ...} or {"s3": {"bucket", "key"}}'

GALLERY = Param(
    "gallery",
    "string",
    "gallery name: 1-64 characters of A-Z a-z 0-9 . _ -, not starting with '.' or '-'",
    default="default",
    schema={"minLength": 1, "maxLength": 64},
)
NAME = Param(
    "name",
    "string",
    f"an identity's name: 1-{MAX_IDENTITY_NAME} characters, no control characters, no '/'; stored as given",
    schema={"minLength": 1, "maxLength": MAX_IDENTITY_NAME},
)
FACE_ID = Param("face_id", "string", "an enrolled face's id (a UUID, from add or get)", required=True)
IMAGE = Param(
    "image",
    "image",
    f"the photo: {_IMAGE_FORMS} in JSON; a file field, or the whole body as image/* "
    "(JPEG, PNG, WebP, BMP, PGM/PPM), in HTTP",
    required=True,
    aliases=("file", "image_base64", "s3"),
)
IMAGE_B = Param(
    "image_b",
    "image",
    "a second photo to compare with (same forms as image)",
    aliases=("file_b", "image_b_base64"),
)
METADATA = Param(
    "metadata",
    "object",
    "JSON object stored with the identity (at most 4 KiB); add: replaces the stored one when given; "
    "update_metadata: applied as 'mode' says (absent: unchanged; metadata or expires_at is required)",
)
LARGEST = Param(
    "largest",
    "boolean",
    "enrol the largest face when the photo has several (else several faces are refused)",
    default=False,
)
TOP_K = Param(
    "top_k",
    "integer",
    f"candidates listed per face, best first (1-{MAX_TOP_K}; search_face: 1-{MAX_TOP_K - 1}, as the "
    "face's own identity is left out)",
    default=5,
    schema={"minimum": 1, "maximum": MAX_TOP_K},
)
THRESHOLD = Param(
    "threshold",
    "number",
    "explicit cosine-similarity threshold (-1 to 1); overrides the target rate",
    schema={"minimum": -1, "maximum": 1},
)
TARGET_FPIR = Param(
    "target_fpir",
    "number",
    "share of people not enrolled that a search may name (0 to 1, exclusive); the threshold follows from it "
    "for this gallery's number of enrolled faces",
    default_doc=f"FRS_TARGET_FPIR ({Settings.target_fpir:g})",
    schema={"exclusiveMinimum": 0, "exclusiveMaximum": 1},
)
TARGET_FAR = Param(
    "target_far",
    "number",
    "share of impostor pairs that may match (0 to 1, exclusive); the threshold follows from it",
    default_doc=f"FRS_TARGET_FAR ({Settings.target_far:g})",
    schema={"exclusiveMinimum": 0, "exclusiveMaximum": 1},
)
QUALITY_FILTER = Param(
    "quality_filter",
    "string",
    "face quality a face must meet: " + " | ".join(QUALITY_FILTERS) + " (add refuses a face below it, "
    "identify answers it low_quality)",
    schema={"enum": list(QUALITY_FILTERS)},
)
PREFIX = Param("prefix", "string", "only identities whose name starts with this", schema={"maxLength": 128})
PAGE_SIZE = Param(
    "page_size",
    "integer",
    f"identities per page (1-{MAX_PAGE_SIZE})",
    default=100,
    schema={"minimum": 1, "maximum": MAX_PAGE_SIZE},
)
PAGE_TOKEN = Param("page_token", "string", "next_page_token of the previous page")
SOURCE = Param(
    "source",
    "string",
    "where the photo can be fetched again (s3://bucket/key or an http(s) URL), kept with the face so "
    '`frs gallery reindex` can re-enrol it on another pack (no pixels are stored); an {"s3": ...} image '
    "records its own key when this is absent",
    schema={"maxLength": 2048},
)
NEW_NAME = Param(
    "new_name",
    "string",
    "the identity's new name (same rules as name; must not be taken)",
    required=True,
    schema={"minLength": 1, "maxLength": MAX_IDENTITY_NAME},
)
FROM = Param(
    "from",
    "array",
    "identities whose faces move into 'name' (they are deleted); metadata: name's keys win, then each of "
    "these in order adds the keys still missing",
    required=True,
)
MODE = Param(
    "mode",
    "string",
    "merge: the given top-level keys replace the stored ones (null removes a key); replace: the given object "
    "becomes the metadata",
    default="merge",
    schema={"enum": ["merge", "replace"]},
)
#: search_face drops the face's own identity from up to top_k + 1 candidates, so it lists one fewer at most.
SEARCH_TOP_K = dataclasses.replace(TOP_K, schema={"minimum": 1, "maximum": MAX_TOP_K - 1})


def s3_source(image: object) -> str | None:
    """``s3://bucket/key`` for an ``{"s3": {"bucket", "key"}}`` image reference, else None."""
    if isinstance(image, dict) and isinstance(image.get("s3"), dict):
        ref = image["s3"]
        if isinstance(ref.get("bucket"), str) and isinstance(ref.get("key"), str):
            return f"s3://{ref['bucket']}/{ref['key']}"
    return None


EXPIRES_AT = Param(
    "expires_at",
    "string",
    "ISO 8601 time the identity expires (no zone: UTC; a past time expires it at once): from then on "
    "identify never names it and the scheduled purge erases it; add: sets or moves the expiry of an "
    "existing identity; update_metadata: sets or moves it, JSON null clears it (never expires), absent "
    "leaves it",
)
RETENTION_DAYS = Param(
    "retention_days",
    "number",
    "the gallery's default retention: identities created from now on expire this many days after "
    "creation (> 0, <= 36500)",
    schema={"exclusiveMinimum": 0, "maximum": 36500},
)
CLEAR_RETENTION = Param("clear_retention", "boolean", "remove the gallery's default retention", default=False)
PURGE_GALLERY = dataclasses.replace(GALLERY, default="*")  # purge: "*" (the default) is every gallery


@dataclass(frozen=True)
class Operation:
    """One operation: what it takes and which service method answers it."""

    name: str  # the direct event's action, and the operation's name in the docs
    summary: str
    params: tuple[Param, ...]
    call: Callable[[FaceService, dict[str, Any]], dict[str, Any]]
    response: str  # schema name in frs.api.schemas
    errors: tuple[int, ...] = ()  # HTTP error statuses beyond 400
    cli: tuple[str, ...] = ()  # the CLI commands that reach it
    created_status: bool = False  # HTTP answers 201 when the result says "created": true, else 200

    def arguments(
        self, fields: Mapping[str, Any], load_image: Callable[[str], bytes | None], hint: str
    ) -> dict[str, Any]:
        """Every parameter's value: the fields typed by their declaration first, then the images (loaded
        only once the rest is valid: an S3 read costs more than a check); ``hint`` says how to send a
        missing required image."""
        values = {p.name: p.read(fields) for p in self.params if p.type != "image"}
        for param in self.images:
            values[param.name] = load_image(param.name)
            if param.required and values[param.name] is None:
                raise FRSError("bad_request", f"'{param.name}' is required: {hint}")
        if "source" in values and values["source"] is None:
            values["source"] = s3_source(fields.get("image")) or s3_source({"s3": fields.get("s3")})
        return values

    def run(self, service: FaceService, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.call(service, arguments)

    @property
    def images(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.type == "image")


#: Every image may be an S3 reference: 403 outside FRS_INPUT_BUCKET, 404 when the object is missing.
IMAGE_ERRORS = (403, 404, 413, 415, 422, 503)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "health",
        "Liveness and the loaded model pack",
        (),
        lambda s, a: s.health(),
        "Health",
        cli=("frs health",),
    ),
    Operation(
        "detect",
        "Detect faces: boxes, scores, 5 landmarks and quality",
        (IMAGE,),
        lambda s, a: s.detect(a["image"]),
        "DetectResult",
        IMAGE_ERRORS,
        cli=("frs detect IMAGE",),
    ),
    Operation(
        "add",
        "Enrol a face for an identity",
        (
            GALLERY,
            _required(NAME),
            IMAGE,
            METADATA,
            LARGEST,
            dataclasses.replace(QUALITY_FILTER, default_doc="FRS_ADD_QUALITY_FILTER (low)"),
            SOURCE,
            EXPIRES_AT,
        ),
        lambda s, a: s.add(
            a["gallery"],
            a["name"],
            a["image"],
            metadata=a["metadata"],
            largest=a["largest"],
            quality_filter=a["quality_filter"],
            source=a["source"],
            expires_at=a["expires_at"],
        ),
        "AddResult",
        (*IMAGE_ERRORS, 409),
        cli=("frs add NAME IMAGE... [--expires-at T]",),
        created_status=True,
    ),
    Operation(
        "identify",
        "Who is in this picture? (every face)",
        (
            GALLERY,
            IMAGE,
            TOP_K,
            THRESHOLD,
            TARGET_FPIR,
            dataclasses.replace(QUALITY_FILTER, default_doc="FRS_IDENTIFY_QUALITY_FILTER (none)"),
        ),
        lambda s, a: s.identify(
            a["gallery"],
            a["image"],
            top_k=a["top_k"],
            threshold=a["threshold"],
            target_fpir=a["target_fpir"],
            quality_filter=a["quality_filter"],
        ),
        "IdentifyResult",
        (*IMAGE_ERRORS, 409),
        cli=("frs identify IMAGE",),
    ),
    Operation(
        "verify",
        "Is this face that identity ('name'), or the same person as in a second image ('image_b')?",
        (GALLERY, IMAGE, IMAGE_B, NAME, THRESHOLD, TARGET_FAR),
        lambda s, a: s.verify(
            a["gallery"],
            a["image"],
            image_b=a["image_b"],
            name=a["name"],
            threshold=a["threshold"],
            target_far=a["target_far"],
        ),
        "VerifyResult",
        (*IMAGE_ERRORS, 409),
        cli=(
            "frs verify IMAGE IMAGE_B",
            "frs verify-identity NAME IMAGE",
        ),
    ),
    Operation(
        "get",
        "An identity with its faces",
        (GALLERY, _required(NAME)),
        lambda s, a: s.get(a["gallery"], a["name"]),
        "Identity",
        (404, 503),
        cli=("frs get NAME",),
    ),
    Operation(
        "list",
        "Identities, in name order, paginated",
        (GALLERY, PREFIX, PAGE_SIZE, PAGE_TOKEN),
        lambda s, a: s.list_identities(
            a["gallery"], prefix=a["prefix"], page_size=a["page_size"], page_token=a["page_token"]
        ),
        "IdentityPage",
        (503,),
        cli=("frs list",),
    ),
    Operation(
        "delete",
        "Delete an identity and erase its embeddings",
        (GALLERY, _required(NAME)),
        lambda s, a: s.delete(a["gallery"], a["name"]),
        "DeleteResult",
        (404, 409, 503),
        cli=("frs delete NAME",),
    ),
    Operation(
        "delete_face",
        "Delete one enrolled face",
        (GALLERY, FACE_ID),
        lambda s, a: s.delete_face(a["gallery"], a["face_id"]),
        "DeleteFaceResult",
        (404, 409, 503),
        cli=("frs delete-face FACE_ID",),
    ),
    Operation(
        "search_face",
        "Who else looks like this enrolled face? (identify's operating point, its own identity left out)",
        (GALLERY, FACE_ID, SEARCH_TOP_K, THRESHOLD, TARGET_FPIR),
        lambda s, a: s.search_face(
            a["gallery"],
            a["face_id"],
            top_k=a["top_k"],
            threshold=a["threshold"],
            target_fpir=a["target_fpir"],
        ),
        "SearchFaceResult",
        (404, 409, 503),
        cli=("frs search-face FACE_ID",),
    ),
    Operation(
        "rename",
        "Rename an identity",
        (GALLERY, _required(NAME), NEW_NAME),
        lambda s, a: s.rename(a["gallery"], a["name"], a["new_name"]),
        "RenameResult",
        (404, 409, 503),
        cli=("frs rename NAME NEW_NAME",),
    ),
    Operation(
        "merge",
        "Merge identities into one (their faces move to 'name', in one write)",
        (GALLERY, _required(NAME), FROM),
        lambda s, a: s.merge(a["gallery"], a["name"], a["from"]),
        "MergeResult",
        (404, 409, 503),
        cli=("frs merge NAME FROM...",),
    ),
    Operation(
        "move_face",
        "Move an enrolled face to another identity",
        (
            GALLERY,
            FACE_ID,
            _required(NAME),
        ),
        lambda s, a: s.move_face(a["gallery"], a["face_id"], a["name"]),
        "MoveFaceResult",
        (404, 409, 503),
        cli=("frs move-face FACE_ID NAME",),
    ),
    Operation(
        "update_metadata",
        "Change an identity's metadata (merge or replace) or expiry without adding a face",
        (
            GALLERY,
            _required(NAME),
            METADATA,
            MODE,
            dataclasses.replace(EXPIRES_AT, null_clears=True),
        ),
        lambda s, a: s.update_metadata(
            a["gallery"], a["name"], a["metadata"], mode=a["mode"], expires_at=a["expires_at"]
        ),
        "Identity",
        (404, 409, 503),
        cli=("frs update-metadata NAME [METADATA] [--expires-at T]",),
    ),
    Operation(
        "update",
        "Set or clear a gallery's default retention",
        (GALLERY, RETENTION_DAYS, CLEAR_RETENTION),
        lambda s, a: s.update(a["gallery"], retention_days=a["retention_days"], clear=a["clear_retention"]),
        "UpdateResult",
        (409, 503),
        cli=("frs update-gallery --retention-days D", "frs update-gallery --clear-retention"),
    ),
    Operation(
        "purge",
        "Erase every expired identity of a gallery, or of every gallery with '*' (the default): what "
        "the schedule runs; direct invocations and the CLI only",
        (PURGE_GALLERY,),
        lambda s, a: s.purge(a["gallery"]),
        "PurgeResult",
        (409, 503),
        cli=("frs purge",),
    ),
    Operation(
        "export_identity",
        "Everything FRS holds about one person (a data-subject request)",
        (GALLERY, _required(NAME)),
        lambda s, a: s.export_identity(a["gallery"], a["name"]),
        "ExportResult",
        (404, 503),
        cli=("frs export-identity NAME",),
    ),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}

#: What only the CLI does (it reads local files and folders): (command, what).
CLI_ONLY: tuple[tuple[str, str], ...] = (
    (
        "frs add NAME IMAGE IMAGE...",
        "several photos of one identity in one gallery write, reported per photo",
    ),
    ("frs enroll DIR", "every DIR/<name>/<photo>, in batches, reported per photo"),
    (
        "frs index s3://BUCKET/PREFIX",
        "an archive in S3 (or --manifest), enrolled by the function through the index queue; "
        "then frs index status|report JOB",
    ),
    (
        "frs embed IMAGE",
        "every face with its embedding (embeddings leave FRS only where its operator runs it)",
    ),
    ("frs calibrate DATASET", "a pack's calibration record (see Operating points)"),
)
