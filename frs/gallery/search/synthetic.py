"""Clustered synthetic galleries for ANN tests and benchmarks (no real faces, no downloads).

Random unit vectors are the worst case for a graph index and unlike face embeddings, whose impostor
similarities spread wider (ArcFace-style models: impostor cosine ~N(0, 0.07-0.1), genuine ~0.4-0.85). So:

* identity centres come from a low-rank subspace (rank ``min(96, dim // 2)``), which widens the impostor
  spread to ~0.08 (512-d) / ~0.12 (128-d), close to real models;
* each identity has 1-7 faces (mean 4), each ``sqrt(a) * centre + sqrt(1 - a) * noise`` with ``a`` uniform
  in [0.45, 0.85], so same-identity faces have cosine ~0.65 +- 0.09;
* queries are half genuine (a fresh face of a random enrolled identity) and half unknown people (a fresh
  face of a new centre): an ANN index must also find the best *impostors*, which is the harder half.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from frs.gallery.search.matrix import MatrixData
from frs.gallery.types import Embedding

_CHUNK = 65536


@dataclass(frozen=True)
class SyntheticGallery:
    """A gallery matrix grouped by identity, plus queries (first half genuine, second half unknown)."""

    data: MatrixData
    queries: Embedding


def _normalise(rows: Embedding) -> Embedding:
    out: Embedding = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out.astype(np.float32, copy=False)


def _faces_of(centres: Embedding, rng: np.random.Generator) -> Embedding:
    noise = _normalise(rng.standard_normal(centres.shape, dtype=np.float32))
    weight = rng.uniform(0.45, 0.85, size=(centres.shape[0], 1)).astype(np.float32)
    return _normalise(np.sqrt(weight) * centres + np.sqrt(1.0 - weight) * noise)


def clustered_gallery(n_faces: int, dim: int, *, n_queries: int = 200, seed: int = 0) -> SyntheticGallery:
    """``n_faces`` L2-normalised float32 faces in identities of 1-7 faces; see the module docstring."""
    rng = np.random.default_rng(seed)
    per_identity = rng.integers(1, 8, size=max(1, n_faces // 2))
    total = np.cumsum(per_identity)
    n_ids = int(np.searchsorted(total, n_faces)) + 1
    per_identity = per_identity[:n_ids].copy()
    per_identity[-1] -= int(per_identity.sum()) - n_faces
    rank = max(1, min(96, dim // 2))
    basis = rng.standard_normal((rank, dim), dtype=np.float32) / np.float32(np.sqrt(rank))

    def centres(count: int) -> Embedding:
        return _normalise(rng.standard_normal((count, rank), dtype=np.float32) @ basis)

    identity_centres = centres(n_ids)
    owner = np.repeat(np.arange(n_ids), per_identity)
    embeddings = np.empty((n_faces, dim), dtype=np.float32)
    for begin in range(0, n_faces, _CHUNK):
        end = min(n_faces, begin + _CHUNK)
        embeddings[begin:end] = _faces_of(identity_centres[owner[begin:end]], rng)
    starts: np.ndarray[Any, np.dtype[np.int64]] = np.concatenate([[0], np.cumsum(per_identity)[:-1]]).astype(
        np.int64
    )
    genuine = _faces_of(identity_centres[rng.integers(0, n_ids, n_queries // 2)], rng)
    unknown = _faces_of(centres(n_queries - n_queries // 2), rng)
    return SyntheticGallery(
        data=MatrixData(embeddings=embeddings, starts=starts, names=[f"id-{i:07d}" for i in range(n_ids)]),
        queries=np.concatenate([genuine, unknown]).astype(np.float32),
    )
