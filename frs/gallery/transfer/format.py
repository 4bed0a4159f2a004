"""The gallery export format, version 1: gzip-compressed JSON Lines (UTF-8, one JSON object per line).

1. A header: ``{"format": "frs-gallery-export", "version": 1, "pack", "dim", "frs_version", "created",
   "gallery"}`` (``pack``/``dim`` null only for a gallery that was never written, which then has no records).
2. Identity records, in name order: ``{"type": "identity", "name", "metadata", "created", "updated",
   "expires_at"}`` (``expires_at`` null when the identity does not expire).
3. Face records, in strictly increasing face_id order (canonical lower-case UUIDs): ``{"type": "face",
   "face_id", "identity", "embedding", "sha256", "bbox", "det_score", "quality", "source", "created"}``;
   ``embedding`` is base64 of ``dim`` float32 little-endian values (L2-normalised), ``identity`` names an
   identity record of the file, ``sha256`` is the photo's hash, ``bbox`` four numbers (x1, y1, x2, y2).
4. A trailer: ``{"type": "end", "identities": n, "faces": m, "sha256": hex}``, where ``sha256`` is the SHA-256
   of every byte before the trailer line (the header and all records, each with its ``\\n``).

Each line is canonical JSON (keys sorted at every level, no spaces). Times are ISO 8601 UTC strings as the
galleries give them. Nothing else is in the file: no photos.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from frs import __version__
from frs.errors import FRSError
from frs.gallery import validation
from frs.gallery.types import FaceRecord, Identity, StoredFace
from frs.packs.info import PackInfo

FORMAT = "frs-gallery-export"
VERSION = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Header:
    pack: PackInfo | None
    frs_version: str
    created: str
    gallery: str


@dataclass(frozen=True)
class Trailer:
    identities: int
    faces: int
    sha256: str


def now_iso() -> str:
    """Now, UTC, ISO 8601 with milliseconds and a Z suffix (the galleries' form)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_line(record: dict[str, Any]) -> bytes:
    """One record as a line of canonical JSON (keys sorted at every level, compact, no NaN), with its
    newline: the same record gives the same bytes whatever backend it came from."""
    text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True)
    return text.encode("utf-8") + b"\n"


def header_line(pack: PackInfo | None, gallery: str, created: str) -> bytes:
    return encode_line(
        {
            "format": FORMAT,
            "version": VERSION,
            "pack": None if pack is None else pack.name,
            "dim": None if pack is None else pack.dim,
            "frs_version": __version__,
            "created": created,
            "gallery": gallery,
        }
    )


def identity_line(identity: Identity) -> bytes:
    return encode_line(
        {
            "type": "identity",
            "name": identity.name,
            "metadata": identity.metadata,
            "created": identity.created_at,
            "updated": identity.updated_at,
            "expires_at": identity.expires_at,
        }
    )


def face_line(face: StoredFace) -> bytes:
    record = face.record
    vector = np.ascontiguousarray(face.embedding, dtype="<f4")
    return encode_line(
        {
            "type": "face",
            "face_id": record.face_id,
            "identity": record.identity,
            "embedding": base64.b64encode(vector.tobytes()).decode("ascii"),
            "sha256": record.image_sha256,
            "bbox": list(record.bbox),
            "det_score": record.det_score,
            "quality": record.quality,
            "source": record.source,
            "created": record.created_at,
        }
    )


def trailer_line(identities: int, faces: int, digest: str) -> bytes:
    return encode_line({"type": "end", "identities": identities, "faces": faces, "sha256": digest})


# ----- decoding (every check raises invalid_export naming the line) -------------------------------------


def invalid(line_no: int, message: str) -> FRSError:
    return FRSError("invalid_export", f"line {line_no}: {message}")


def parse_object(raw: bytes, line_no: int) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise invalid(line_no, "the line is cut off (the file is truncated)")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid(line_no, f"not a JSON object ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise invalid(line_no, "not a JSON object")
    return value


def _keys(value: dict[str, Any], expected: set[str], line_no: int) -> None:
    if set(value) != expected:
        missing, extra = sorted(expected - set(value)), sorted(set(value) - expected)
        raise invalid(line_no, f"wrong fields (missing {missing}, unexpected {extra})")


def _time(value: object, line_no: int, field: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise invalid(line_no, f"{field} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(line_no, f"{field} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise invalid(line_no, f"{field} must carry a time zone")
    return value


def _number(value: object, line_no: int, field: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(line_no, f"{field} must be a finite number")
    return float(value)


def _count(value: object, line_no: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(line_no, f"{field} must be a non-negative integer")
    return value


def decode_header(raw: bytes) -> Header:
    value = parse_object(raw, 1)
    if value.get("format") != FORMAT:
        raise invalid(1, f"not an FRS gallery export (format must be {FORMAT!r})")
    if value.get("version") != VERSION:
        raise invalid(1, f"unsupported export version {value.get('version')!r} (this FRS reads {VERSION})")
    _keys(value, {"format", "version", "pack", "dim", "frs_version", "created", "gallery"}, 1)
    pack: PackInfo | None = None
    if value["pack"] is not None or value["dim"] is not None:
        try:
            pack = validation.validate_pack(PackInfo(value["pack"], value["dim"]))
        except FRSError:
            raise invalid(1, "pack must be a name and dim a positive integer") from None
    if not isinstance(value["frs_version"], str) or not isinstance(value["gallery"], str):
        raise invalid(1, "frs_version and gallery must be strings")
    created = _time(value["created"], 1, "created")
    assert created is not None
    return Header(pack=pack, frs_version=value["frs_version"], created=created, gallery=value["gallery"])


def decode_identity(value: dict[str, Any], line_no: int) -> Identity:
    _keys(value, {"type", "name", "metadata", "created", "updated", "expires_at"}, line_no)
    try:
        name = validation.validate_identity_name(value["name"])
        metadata = validation.validate_metadata(value["metadata"])
    except FRSError as exc:
        raise invalid(line_no, exc.message) from None
    created = _time(value["created"], line_no, "created")
    updated = _time(value["updated"], line_no, "updated")
    assert created is not None and updated is not None
    return Identity(
        name=name,
        metadata=metadata,
        created_at=created,
        updated_at=updated,
        face_count=0,
        expires_at=_time(value["expires_at"], line_no, "expires_at", optional=True),
    )


_FACE_FIELDS = {
    "type",
    "face_id",
    "identity",
    "embedding",
    "sha256",
    "bbox",
    "det_score",
    "quality",
    "source",
    "created",
}


def decode_face(value: dict[str, Any], line_no: int, pack: PackInfo) -> StoredFace:
    _keys(value, _FACE_FIELDS, line_no)
    try:
        face_id = validation.validate_face_id(value["face_id"])
        identity = validation.validate_identity_name(value["identity"])
        source = validation.validate_source(value["source"])
    except FRSError as exc:
        raise invalid(line_no, exc.message) from None
    if face_id != value["face_id"]:
        raise invalid(line_no, "face_id must be a lower-case UUID")
    if not isinstance(value["embedding"], str):
        raise invalid(line_no, "embedding must be a base64 string")
    try:
        raw = base64.b64decode(value["embedding"], validate=True)
    except (binascii.Error, ValueError):
        raise invalid(line_no, "embedding is not valid base64") from None
    if len(raw) != 4 * pack.dim:
        raise invalid(line_no, f"embedding must hold {pack.dim} float32 values, got {len(raw)} bytes")
    try:
        embedding = validation.validate_embedding(
            np.frombuffer(raw, dtype="<f4").astype(np.float32), pack.dim
        )
    except FRSError as exc:
        raise invalid(line_no, exc.message) from None
    if not isinstance(value["sha256"], str) or not _SHA256.fullmatch(value["sha256"]):
        raise invalid(line_no, "sha256 must be 64 lower-case hex digits")
    bbox = value["bbox"]
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise invalid(line_no, "bbox must be four numbers")
    box = tuple(_number(v, line_no, "bbox") for v in bbox)
    det_score = _number(value["det_score"], line_no, "det_score")
    assert det_score is not None
    created = _time(value["created"], line_no, "created")
    assert created is not None
    record = FaceRecord(
        face_id=face_id,
        identity=identity,
        pack=pack.name,
        dim=pack.dim,
        det_score=det_score,
        bbox=(float(box[0] or 0), float(box[1] or 0), float(box[2] or 0), float(box[3] or 0)),
        image_sha256=value["sha256"],
        created_at=created,
        source=source,
        quality=_number(value["quality"], line_no, "quality", optional=True),
    )
    return StoredFace(record=record, embedding=embedding)


def decode_trailer(value: dict[str, Any], line_no: int) -> Trailer:
    _keys(value, {"type", "identities", "faces", "sha256"}, line_no)
    digest = value["sha256"]
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise invalid(line_no, "the trailer's sha256 must be 64 lower-case hex digits")
    return Trailer(
        identities=_count(value["identities"], line_no, "identities"),
        faces=_count(value["faces"], line_no, "faces"),
        sha256=digest,
    )
