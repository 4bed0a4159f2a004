"""Stable integer keys for faces, and the lookup from a key to a row of one gallery version's matrix.

An ANN index names its vectors by 64-bit keys. Rows of the matrix move between gallery versions (rows are
grouped by identity), so the index cannot use row numbers; it uses a key derived from the face's UUID instead
(the two 64-bit halves XORed, top bit cleared), which never changes while the face exists. A face's embedding
never changes either, so an index of *any* earlier version can be brought up to date by removing the keys
that are gone and adding the ones that are new (:func:`frs.gallery.search.ann.index.patch`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from frs.gallery.search.matrix import MatrixData

Keys = np.ndarray[Any, np.dtype[np.uint64]]
Rows = np.ndarray[Any, np.dtype[np.int64]]

KEY_MASK = (1 << 63) - 1
_HEX_COLUMNS = [c for c in range(36) if c not in (8, 13, 18, 23)]  # the hyphens of a canonical UUID
_NIBBLE = np.full(256, 255, dtype=np.uint8)
for _value, _char in enumerate(b"0123456789abcdef"):
    _NIBBLE[_char] = _value
_WEIGHTS = np.array([16**i for i in range(15, -1, -1)], dtype=np.uint64)


def _key_of(face_id: str) -> int:
    value = uuid.UUID(face_id).int
    return ((value >> 64) ^ (value & 0xFFFFFFFFFFFFFFFF)) & KEY_MASK


def keys_from_face_ids(face_ids: Sequence[str]) -> Keys:
    """The key of each face id (vectorised for canonical lower-case UUIDs, exact same result otherwise)."""
    if not face_ids:
        return np.empty(0, dtype=np.uint64)
    raw = np.frombuffer("".join(face_ids).encode("utf-8"), dtype=np.uint8)
    if raw.size == 36 * len(face_ids):
        nibbles = _NIBBLE[raw.reshape(-1, 36)[:, _HEX_COLUMNS]]
        if not (nibbles == 255).any():
            wide = nibbles.astype(np.uint64)
            high = (wide[:, :16] * _WEIGHTS).sum(axis=1, dtype=np.uint64)
            low = (wide[:, 16:] * _WEIGHTS).sum(axis=1, dtype=np.uint64)
            keys: Keys = (high ^ low) & np.uint64(KEY_MASK)
            return keys
    return np.array([_key_of(f) for f in face_ids], dtype=np.uint64)


def aligned_keys(data: MatrixData, face_ids: Sequence[str], owners: Sequence[int]) -> Keys | None:
    """Keys for the rows of ``data``, given each row's face id and owning identity; None if they do not align.

    ``face_ids`` / ``owners`` come from the store in the order of its matrix (``row_face_ids``); the identity
    boundaries must agree with ``data.starts``, so a change in either ordering shows up as "no keys" (exact
    search) rather than as wrong rows.
    """
    if len(face_ids) != data.embeddings.shape[0] or len(owners) != len(face_ids):
        return None
    identity_ids = np.asarray(owners, dtype=np.int64)
    boundaries = np.flatnonzero(np.diff(identity_ids, prepend=identity_ids[:1] - 1) != 0)
    if not np.array_equal(boundaries.astype(np.int64), data.starts):
        return None
    return keys_from_face_ids(face_ids)


class KeyLookup:
    """Maps keys returned by an index to rows of one gallery version; unknown keys are dropped."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self._order: Rows = np.argsort(keys, kind="stable").astype(np.int64)
        self._sorted: Keys = keys[self._order]

    @property
    def unique(self) -> bool:
        """False if two faces share a key (astronomically rare; such a version is searched exactly)."""
        return not bool((self._sorted[1:] == self._sorted[:-1]).any())

    def rows(self, keys: Keys) -> Rows:
        """Rows of the keys present in this version, in the order given."""
        if self._sorted.size == 0 or keys.size == 0:
            return np.empty(0, dtype=np.int64)
        positions = np.minimum(np.searchsorted(self._sorted, keys), self._sorted.size - 1)
        found = self._sorted[positions] == keys
        rows: Rows = self._order[positions[found]]
        return rows
