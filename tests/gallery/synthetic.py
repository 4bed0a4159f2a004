"""Deterministic synthetic faces for gallery tests (the gallery never sees images, only embeddings)."""

from __future__ import annotations

import hashlib

import numpy as np

from frs.gallery.types import NewFace
from frs.packs.info import PackInfo

TEST_PACK = PackInfo(name="test-pack", dim=64)


class FaceMaker:
    """Unit embeddings and NewFace records derived from a string key (same key, same face)."""

    def __init__(self, dim: int = TEST_PACK.dim) -> None:
        self.dim = dim

    def embedding(self, key: str, dim: int | None = None) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(dim or self.dim).astype(np.float32)
        return (vector / np.linalg.norm(vector)).astype(np.float32)

    def face(self, key: str, dim: int | None = None) -> NewFace:
        return NewFace(
            embedding=self.embedding(key, dim),
            det_score=0.9,
            bbox=(1.0, 2.0, 30.0, 40.0),
            image_sha256=hashlib.sha256(key.encode()).hexdigest(),
        )
