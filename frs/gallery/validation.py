"""Validation of everything handed to a gallery: names, ids, metadata, page sizes, top_k, embeddings, packs.

Every backend validates with these functions before touching storage, so all backends reject the same inputs
with the same ``bad_request`` messages.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from typing import Any

import numpy as np

from frs.errors import FRSError
from frs.gallery.types import Embedding, NewFace
from frs.packs.info import PackInfo

MAX_IDENTITY_NAME = 128
MAX_METADATA_BYTES = 4096
MAX_PAGE_SIZE = 1000
#: The one top_k limit, for the service and every backend alike (candidates per face in an answer).
MAX_TOP_K = 100
# Embeddings arrive L2-normalised; a looser bound would let a caller's bug silently skew similarities.
NORM_TOLERANCE = 1e-2

# A gallery name becomes a file name and an S3 key: plain ASCII, no path separators, no leading dot.
_GALLERY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")
# Control characters, surrogates and line/paragraph separators make names unprintable or ambiguous in logs.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


def validate_gallery_name(name: object) -> str:
    """Return ``name`` if it is a valid gallery name (``[A-Za-z0-9_][A-Za-z0-9._-]{0,63}``), else 400."""
    if not isinstance(name, str) or not _GALLERY_NAME.fullmatch(name):
        raise FRSError(
            "bad_request",
            "gallery name must be 1-64 characters of A-Z a-z 0-9 . _ - and must not start with '.' or '-'",
        )
    return name


def validate_identity_name(name: object) -> str:
    """Return ``name`` if it is a valid identity name, else bad_request.

    Valid: 1-128 Unicode characters, no control characters, no surrogates, no line/paragraph separators and no
    '/'. Names are stored exactly as given (no normalisation, no trimming).
    """
    if not isinstance(name, str):
        raise FRSError("bad_request", "identity name must be a string")
    if not 1 <= len(name) <= MAX_IDENTITY_NAME:
        raise FRSError("bad_request", f"identity name must be 1-{MAX_IDENTITY_NAME} characters long")
    if "/" in name:
        raise FRSError("bad_request", "identity name must not contain '/'")
    for char in name:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise FRSError(
                "bad_request", f"identity name must not contain control characters (found U+{ord(char):04X})"
            )
    return name


def validate_face_id(face_id: object) -> str:
    """Return the canonical lower-case form of a face id (a UUID), else bad_request."""
    if not isinstance(face_id, str):
        raise FRSError("bad_request", "face_id must be a string")
    try:
        parsed = uuid.UUID(face_id)
    except ValueError as exc:
        raise FRSError("bad_request", "face_id must be a UUID") from exc
    return str(parsed)


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def serialize_metadata(metadata: object) -> str:
    """Validate metadata (a JSON object of at most 4 KiB once serialised) and return its compact JSON text."""
    if not isinstance(metadata, dict):
        raise FRSError("bad_request", "metadata must be a JSON object")
    try:
        text = json.dumps(
            metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True
        )
    except (TypeError, ValueError) as exc:
        raise FRSError("bad_request", f"metadata is not valid JSON: {exc}") from exc
    if len(text.encode("utf-8")) > MAX_METADATA_BYTES:
        raise FRSError("bad_request", f"metadata must be at most {MAX_METADATA_BYTES} bytes as JSON")
    if _has_nul(metadata):
        # PostgreSQL's jsonb cannot hold U+0000; refuse it on every backend so they all accept the same input.
        raise FRSError("bad_request", "metadata must not contain the NUL character (U+0000)")
    return text


def validate_metadata(metadata: object) -> dict[str, Any]:
    """Return a validated deep copy of ``metadata`` (see :func:`serialize_metadata`)."""
    loaded: dict[str, Any] = json.loads(serialize_metadata(metadata))
    return loaded


def merge_metadata(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``update_metadata(mode="merge")``: the patch's top-level keys replace the stored ones; null removes."""
    merged = dict(stored)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def merged_identity_metadata(target: dict[str, Any], sources: list[dict[str, Any]]) -> dict[str, Any]:
    """``merge``'s rule: the target's keys win; each source, in order, adds the keys still missing."""
    merged = dict(target)
    for source in sources:
        for key, value in source.items():
            merged.setdefault(key, value)
    return merged


def validate_metadata_mode(mode: object) -> str:
    if mode not in ("merge", "replace"):
        raise FRSError("bad_request", "mode must be 'merge' or 'replace'")
    return str(mode)


def validate_metadata_update(
    name: object, metadata: object, mode: object, *, changes_expiry: bool
) -> tuple[str, dict[str, Any] | None, str]:
    """The checked (name, metadata or None, mode) of an ``update_metadata`` call; it must change something:
    metadata, or the expiry (``changes_expiry``)."""
    checked_name = validate_identity_name(name)
    patch = None if metadata is None else validate_metadata(metadata)
    checked_mode = validate_metadata_mode(mode)
    if patch is None and not changes_expiry:
        raise FRSError("bad_request", "update_metadata needs metadata or expires_at")
    return checked_name, patch, checked_mode


MAX_SOURCE = 2048


def validate_source(source: object) -> str | None:
    """Return a face's photo source (None, ``s3://bucket/key`` or an http(s) URL of <= 2048 chars)."""
    if source is None or source == "":
        return None
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        raise FRSError("bad_request", f"source must be a string of at most {MAX_SOURCE} characters")
    if not source.startswith(("s3://", "http://", "https://")) or any(
        unicodedata.category(c) in _FORBIDDEN_CATEGORIES or c.isspace() for c in source
    ):
        raise FRSError("bad_request", "source must be an s3://bucket/key or http(s):// URL without spaces")
    return source


def validate_merge_sources(name: str, sources: object) -> list[str]:
    """The identities a merge takes faces from: a non-empty list of distinct names other than ``name``."""
    if not isinstance(sources, list) or not sources:
        raise FRSError("bad_request", "'from' must be a non-empty list of identity names")
    names = [validate_identity_name(s) for s in sources]
    if len(set(names)) != len(names):
        raise FRSError("bad_request", "'from' names an identity twice")
    if name in names:
        raise FRSError("bad_request", "an identity cannot be merged into itself")
    return names


def validate_page_size(page_size: object) -> int:
    """Return ``page_size`` if it is an integer in 1..1000, else bad_request."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise FRSError("bad_request", f"page_size must be an integer between 1 and {MAX_PAGE_SIZE}")
    return page_size


def validate_top_k(top_k: object) -> int:
    """Return ``top_k`` if it is an integer in 1..100 (``MAX_TOP_K``), else bad_request."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise FRSError("bad_request", f"top_k must be an integer from 1 to {MAX_TOP_K}")
    return top_k


def validate_prefix(prefix: object) -> str | None:
    """Return a list prefix (None or a string of at most 128 characters without control characters)."""
    if prefix is None or prefix == "":
        return None
    if not isinstance(prefix, str) or len(prefix) > MAX_IDENTITY_NAME:
        raise FRSError("bad_request", f"prefix must be a string of at most {MAX_IDENTITY_NAME} characters")
    if any(unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in prefix):
        raise FRSError("bad_request", "prefix must not contain control characters")
    return prefix


# ----- embeddings, faces and packs ---------------------------------------------------------------------


def validate_pack(pack: object) -> PackInfo:
    """Return ``pack`` if it is a PackInfo with a non-empty name and a positive dimension."""
    if not isinstance(pack, PackInfo) or not isinstance(pack.name, str) or not pack.name:
        raise FRSError("bad_request", "pack must be a PackInfo with a name")
    if len(pack.name) > 64 or isinstance(pack.dim, bool) or not isinstance(pack.dim, int) or pack.dim <= 0:
        raise FRSError("bad_request", "pack name must be at most 64 characters and dim a positive integer")
    return pack


def validate_embedding(embedding: object, dim: int) -> Embedding:
    """Return a contiguous float32 copy of a finite, L2-normalised vector of shape ``(dim,)``."""
    array = _as_float32(embedding)
    if array.shape != (dim,):
        raise FRSError("bad_request", f"embedding must have shape ({dim},), got {array.shape}")
    _check_rows(array.reshape(1, dim))
    return array


def validate_queries(embeddings: object, dim: int) -> Embedding:
    """Return queries as a contiguous float32 (n, dim) matrix; a single (dim,) vector becomes one row."""
    array = _as_float32(embeddings)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != dim:
        raise FRSError("bad_request", f"embeddings must have shape (n, {dim}), got {array.shape}")
    _check_rows(array)
    return array


def validate_new_face(face: object, dim: int) -> NewFace:
    """Return a NewFace whose embedding, score, box and image hash are all well-formed."""
    if not isinstance(face, NewFace):
        raise FRSError("bad_request", "face must be a NewFace")
    embedding = validate_embedding(face.embedding, dim)
    if not isinstance(face.det_score, (int, float)) or not math.isfinite(face.det_score):
        raise FRSError("bad_request", "det_score must be a finite number")
    bbox = face.bbox
    if (
        not isinstance(bbox, (tuple, list))
        or len(bbox) != 4
        or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bbox)
    ):
        raise FRSError("bad_request", "bbox must be four finite numbers (x1, y1, x2, y2)")
    if not isinstance(face.image_sha256, str) or not _SHA256.fullmatch(face.image_sha256):
        raise FRSError("bad_request", "image_sha256 must be 64 lower-case hex digits")
    quality = face.quality
    if quality is not None and (not isinstance(quality, (int, float)) or not math.isfinite(quality)):
        raise FRSError("bad_request", "quality must be a finite number")
    return NewFace(
        embedding=embedding,
        det_score=float(face.det_score),
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])),
        image_sha256=face.image_sha256,
        source=validate_source(face.source),
        quality=None if quality is None else float(quality),
        face_id=None if face.face_id is None else validate_face_id(face.face_id),
    )


def _as_float32(value: object) -> Embedding:
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
        raise FRSError("bad_request", "embedding must be a floating-point numpy array")
    return np.ascontiguousarray(value, dtype=np.float32)


def _check_rows(rows: Embedding) -> None:
    if rows.shape[0] == 0:
        raise FRSError("bad_request", "at least one embedding is required")
    if not np.isfinite(rows).all():
        raise FRSError("bad_request", "embedding contains NaN or infinity")
    norms = np.linalg.norm(rows, axis=1)
    if np.any(np.abs(norms - 1.0) > NORM_TOLERANCE):
        raise FRSError("bad_request", "embedding must be L2-normalised")
