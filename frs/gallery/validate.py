"""Validation of embeddings, faces and packs handed to a gallery (shared by every backend)."""

from __future__ import annotations

import math
import re

import numpy as np

from frs.errors import FRSError
from frs.gallery.types import Embedding, NewFace, PackInfo

# Embeddings arrive L2-normalised; a looser bound would let a caller's bug silently skew similarities.
NORM_TOLERANCE = 1e-2
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
    return NewFace(
        embedding=embedding,
        det_score=float(face.det_score),
        bbox=(float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])),
        image_sha256=face.image_sha256,
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
