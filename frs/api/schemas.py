"""The answers' vocabulary: every field FRS answers with, described once, and the schemas made of them.

:data:`FIELDS` gives each answer field its type and meaning; a schema uses a field by name (:func:`_field`),
possibly narrowing or widening its type (nullable in identify), never redefining what it means. The OpenAPI
document (:mod:`frs.api.openapi`) and the README's answer tables (:mod:`frs.api.reference`) both read these.
"""

from __future__ import annotations

from typing import Any

from frs.errors import ERROR_STATUS
from frs.pipeline.quality import FILTER_LEVELS, ISSUE_CODES

_NUMBER = {"type": "number"}
_POINT = {"type": "array", "items": _NUMBER, "minItems": 2, "maxItems": 2}

#: Reasons an identify face is not named (``reason`` is null exactly when ``identity`` is a name).
IDENTIFY_REASONS = ("below_threshold", "low_quality", "empty_gallery")

FIELDS: dict[str, dict[str, Any]] = {
    # -- faces
    "bbox": {
        "type": "array",
        "items": _NUMBER,
        "minItems": 4,
        "maxItems": 4,
        "description": "face box x1, y1, x2, y2 in the original image's pixels",
    },
    "det_score": {"type": "number", "description": "the detector's confidence, on its own scale"},
    "landmarks": {
        "type": "array",
        "items": _POINT,
        "minItems": 5,
        "maxItems": 5,
        "description": "left eye, right eye, nose tip, left and right mouth corners (x, y), original pixels",
    },
    "quality": {"$ref": "#/components/schemas/Quality", "description": "the face's quality (table below)"},
    "identity": {
        "type": "string",
        "description": "an identity's name, in every answer that refers to one (identify: null when the face "
        "is not named)",
    },
    "similarity": {
        "type": "number",
        "description": "cosine similarity in [-1, 1], 4 decimals (identify: the best candidate's; null on an "
        "empty gallery)",
    },
    "reason": {
        "type": ["string", "null"],
        "enum": [None, *IDENTIFY_REASONS],
        "description": "why the face is not named: " + " | ".join(IDENTIFY_REASONS) + "; null when it is",
    },
    "candidates": {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Candidate"},
        "description": 'up to top_k {"identity", "similarity"}, best first (listed for low_quality faces '
        "too)",
    },
    # -- decisions
    "threshold": {"type": "number", "description": "the cosine threshold the decision used"},
    "operating_point": {
        "type": "object",
        "description": "how the threshold was chosen (table below)",
    },
    "match": {"type": "boolean", "description": "similarity >= threshold"},
    # -- gallery records
    "face_id": {"type": "string", "description": "an enrolled face's id (a UUID)"},
    "face_count": {"type": "integer", "description": "faces enrolled for the identity"},
    "created": {
        "type": "boolean",
        "description": "false when this image was already enrolled for this identity (HTTP 200, not 201)",
    },
    "metadata": {"type": "object", "description": "the JSON object stored with the identity"},
    "created_at": {"type": "string", "description": "ISO 8601 UTC time of creation"},
    "updated_at": {"type": "string", "description": "ISO 8601 UTC time of the last change"},
    "image_sha256": {
        "type": "string",
        "description": "sha256 of the enrolled photo's bytes (the photo itself is never stored)",
    },
    "identities": {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Identity"},
        "description": "a page of identities",
    },
    "next_page_token": {
        "type": ["string", "null"],
        "description": "pass as page_token for the next page; null on the last page",
    },
    "faces_removed": {"type": "integer", "description": "faces the delete erased"},
    "face_ids": {
        "type": "array",
        "items": {"type": "string"},
        "description": "delete: the ids of the faces it erased, in enrolment order (what its audit record "
        "lists)",
    },
    "quality_score": {
        "type": ["number", "null"],
        "description": "the face's quality score (0-1) when it was enrolled (null for faces enrolled before "
        "FRS recorded it)",
    },
    "source": {
        "type": ["string", "null"],
        "description": "where the enrolled photo can be fetched again (s3://bucket/key or a URL), if known",
    },
    "enrolled_as": {
        "type": "string",
        "description": "search_face: the identity the searched face belongs to",
    },
    "renamed_from": {"type": "string", "description": "rename: the identity's previous name"},
    "merged": {
        "type": "array",
        "items": {"type": "string"},
        "description": "merge: the identities merged into this one (now deleted)",
    },
    "faces_moved": {"type": "integer", "description": "merge: faces that moved to the identity"},
    "duplicates_dropped": {
        "type": "integer",
        "description": "merge: faces dropped because the identity already had a face from the same photo",
    },
    "previous_identity": {"type": "string", "description": "move_face: the identity the face belonged to"},
    "expires_at": {
        "type": ["string", "null"],
        "description": "ISO 8601 UTC time the identity expires: never named by identify from then on, "
        "deleted by the scheduled purge; null: kept until deleted",
    },
    "gallery": {"type": "string", "description": "the gallery's name"},
    "retention_days": {
        "type": ["number", "null"],
        "description": "the gallery's default retention: identities created later expire this many days "
        "after creation; null: none",
    },
    "purged": {
        "type": "array",
        "items": {"type": "object"},
        "description": 'the identities the purge erased: {"gallery", "identity", "face_ids"}',
    },
    "galleries": {"type": "integer", "description": "galleries the purge looked at"},
    "at": {"type": "string", "description": "the time the purge compared expiries with (ISO 8601 UTC)"},
    "record": {"type": "object", "description": "the identity with its face records, as get answers it"},
    "audit": {
        "type": "array",
        "items": {"type": "object"},
        "description": "every audit record naming the identity in this gallery, oldest first",
    },
    "audit_trail": {"type": "boolean", "description": "whether FRS_AUDIT_URI is set (else audit is empty)"},
    "held": {"type": "string", "description": "what FRS holds about a person, in words"},
    # -- images and the service
    "image": {
        "type": "object",
        "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
        "description": "size of the photo sent, in pixels: {width, height}",
    },
    "faces": {
        "type": "array",
        "description": "the faces found (detect, identify; best detection first) or enrolled (get)",
    },
    "status": {"type": "string", "description": '"ok"'},
    "pack": {"type": "string", "description": "the model pack serving requests"},
    "dim": {"type": "integer", "description": "its embedding dimension"},
    "access": {
        "type": "object",
        "description": 'access control in force: {"policy": "inline" or its s3:// URI, "rules": n}, or '
        '{"policy": null, "note"} when every authenticated caller may use every gallery',
    },
}

#: The ``quality`` object of every detected face (``frs.pipeline.quality.Quality.to_dict``).
QUALITY_FIELDS: dict[str, dict[str, Any]] = {
    "score": {
        "type": "number",
        "description": "overall fitness for recognition, 0-1 (product of one 0-1 factor per measure)",
    },
    "face_px": {
        "type": "number",
        "description": "shorter side of the face box, in the pixels the detector saw",
    },
    "interocular": {"type": "number", "description": "distance between the eyes, same pixels"},
    "sharpness": {
        "type": "number",
        "description": "0-1: Laplacian over contrast on the aligned face; 1: as crisp as a typical press "
        "photo",
    },
    "pose": {
        "type": "object",
        "properties": {"yaw": _NUMBER, "pitch": _NUMBER, "roll": _NUMBER},
        "description": "yaw, pitch, roll in degrees, from the 5 landmarks (roll exact; yaw and pitch "
        "about +-25%)",
    },
    "brightness": {"type": "number", "description": "mean luminance of the aligned face, 0-1"},
    "contrast": {"type": "number", "description": "its standard deviation, 0-1"},
    "det_score": FIELDS["det_score"],
    "issues": {
        "type": "array",
        "items": {"type": "string", "enum": list(ISSUE_CODES)},
        "description": "what falls short of the medium filter: " + ", ".join(ISSUE_CODES),
    },
}

#: ``operating_point`` of identify and verify answers (``frs.decision.policy``).
OPERATING_POINT_FIELDS: dict[str, dict[str, Any]] = {
    "basis": {
        "type": "string",
        "enum": ["target_fpir", "target_far", "threshold"],
        "description": "target_fpir (identify) or target_far (verify) when the threshold came from the "
        "target rate; threshold when it was fixed",
    },
    "source": {
        "type": "string",
        "enum": ["calibrated", "explicit", "configured", "pack_default"],
        "description": "calibrated (target rate through the pack's calibration), explicit (the request's "
        "threshold), configured (FRS_MATCH_THRESHOLD), pack_default (the pack has no calibration)",
    },
    "target_fpir": {"type": ["number", "null"], "description": "identify: the target rate used, else null"},
    "target_far": {"type": ["number", "null"], "description": "verify: the target rate used, else null"},
    "gallery_size": {"type": "integer", "description": "identify: enrolled faces the threshold accounts for"},
    "false_match_rate": {
        "type": ["number", "null"],
        "description": "the calibration's per-comparison false-match rate at the threshold (null without "
        "one)",
    },
    "expected_fpir": {
        "type": ["number", "null"],
        "description": "identify: the share of strangers the calibration expects to be named at this "
        "threshold and gallery size (null without a calibration)",
    },
    "extrapolated": {
        "type": "boolean",
        "description": "identify: true when the threshold's false-match rate is below every rate the "
        "calibration observed (it comes from the fitted tail: trust it less; calibrate on more people)",
    },
    "measured_gallery_size": {
        "type": ["integer", "null"],
        "description": "identify: the largest gallery (enrolled faces) whose threshold at this target the "
        "calibration measured rather than extrapolated (null for a fixed threshold or without a calibration)",
    },
    "quality_filter": {
        "type": "string",
        "enum": list(FILTER_LEVELS),
        "description": "identify: the quality filter applied to the faces",
    },
}


def _field(name: str, table: dict[str, dict[str, Any]] | None = None, **override: Any) -> dict[str, Any]:
    return {**(FIELDS if table is None else table)[name], **override}


def _object(properties: dict[str, dict[str, Any]], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
    }


def _operating_point(names: tuple[str, ...]) -> dict[str, Any]:
    return {
        **_object({n: _field(n, OPERATING_POINT_FIELDS) for n in names}),
        "description": FIELDS["operating_point"]["description"],
    }


_DETECT_FACE = _object({n: _field(n) for n in ("bbox", "det_score", "landmarks", "quality")})
_IDENTIFY_FACE = _object(
    {
        "bbox": _field("bbox"),
        "det_score": _field("det_score"),
        "quality": _field("quality"),
        "identity": _field("identity", type=["string", "null"]),
        "similarity": _field("similarity", type=["number", "null"]),
        "reason": _field("reason"),
        "candidates": _field("candidates"),
    }
)
_FACE_RECORD = _object(
    {
        n: _field(n)
        for n in ("face_id", "bbox", "det_score", "quality_score", "image_sha256", "source", "created_at")
    }
)
_IDENTITY_PROPERTIES = {
    n: _field(n) for n in ("identity", "metadata", "face_count", "created_at", "updated_at", "expires_at")
}
_VERDICT = {
    "similarity": _field("similarity"),
    "match": _field("match"),
    "threshold": _field("threshold"),
    "operating_point": _operating_point(("basis", "source", "target_far", "false_match_rate")),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": sorted(ERROR_STATUS)},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    },
    "Quality": _object({n: _field(n, QUALITY_FIELDS) for n in QUALITY_FIELDS}),
    "Candidate": _object({"identity": _field("identity"), "similarity": _field("similarity")}),
    "Health": _object({n: _field(n) for n in ("status", "pack", "dim", "access")}),
    "DetectResult": _object({"image": _field("image"), "faces": _field("faces", items=_DETECT_FACE)}),
    "AddResult": _object(
        {
            n: _field(n)
            for n in (
                "face_id",
                "identity",
                "bbox",
                "det_score",
                "quality",
                "face_count",
                "created",
                "expires_at",
            )
        }
    ),
    "IdentifyResult": _object(
        {
            "image": _field("image"),
            "threshold": _field("threshold"),
            "operating_point": _operating_point(
                tuple(n for n in OPERATING_POINT_FIELDS if n != "target_far")
            ),
            "faces": _field("faces", items=_IDENTIFY_FACE),
        }
    ),
    "VerifyResult": _object({**_VERDICT, "identity": _field("identity")}, required=list(_VERDICT)),
    "Identity": _object(
        {**_IDENTITY_PROPERTIES, "faces": _field("faces", items=_FACE_RECORD)},
        required=list(_IDENTITY_PROPERTIES),
    ),
    "IdentityPage": _object(
        {"identities": _field("identities"), "next_page_token": _field("next_page_token")}
    ),
    "DeleteResult": _object(
        {
            "identity": _field("identity"),
            "faces_removed": _field("faces_removed"),
            "face_ids": _field("face_ids"),
        }
    ),
    "DeleteFaceResult": _object({"face_id": _field("face_id"), "identity": _field("identity")}),
    "SearchFaceResult": _object(
        {
            "face_id": _field("face_id"),
            "enrolled_as": _field("enrolled_as"),
            "threshold": _field("threshold"),
            "operating_point": _operating_point(
                tuple(n for n in OPERATING_POINT_FIELDS if n != "target_far")
            ),
            "identity": _field("identity", type=["string", "null"]),
            "similarity": _field("similarity", type=["number", "null"]),
            "reason": _field("reason"),
            "candidates": _field("candidates"),
        }
    ),
    "RenameResult": _object(
        {**_IDENTITY_PROPERTIES, "renamed_from": _field("renamed_from")},
    ),
    "MergeResult": _object(
        {
            **_IDENTITY_PROPERTIES,
            "merged": _field("merged"),
            "faces_moved": _field("faces_moved"),
            "duplicates_dropped": _field("duplicates_dropped"),
        }
    ),
    "MoveFaceResult": _object(
        {
            "face_id": _field("face_id"),
            "identity": _field("identity"),
            "previous_identity": _field("previous_identity"),
        }
    ),
    "UpdateResult": _object({"gallery": _field("gallery"), "retention_days": _field("retention_days")}),
    "PurgeResult": _object({n: _field(n) for n in ("purged", "galleries", "at")}),
    "ExportResult": _object(
        {n: _field(n) for n in ("identity", "gallery", "record", "audit", "audit_trail", "held")}
    ),
}
