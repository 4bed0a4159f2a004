"""Exact cosine search over one gallery version held in memory.

Embeddings are L2-normalised, so cosine similarity is a dot product: one matrix product gives every
query-face similarity, ``np.maximum.reduceat`` turns face scores into identity scores (max over an identity's
faces) and ``argpartition`` picks the top k without sorting everything. A matcher is immutable; callers build
a new one when the gallery file changes and reuse it across warm invocations otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from frs.gallery.search.matrix import MatrixData
from frs.gallery.types import Candidate, Embedding

# Bound the (queries x faces) similarity block so a photo with many faces against a huge gallery stays small.
_MAX_BLOCK_ELEMENTS = 32_000_000
# Up to this many queries, one matrix-vector product per query beats a matrix product (see _face_scores).
_ROWWISE_MAX_QUERIES = 4


class Matcher:
    """Top-k identities by max similarity, for an immutable snapshot of embeddings."""

    def __init__(self, data: MatrixData) -> None:
        self.embeddings: Embedding = np.ascontiguousarray(data.embeddings, dtype=np.float32)
        self.starts: np.ndarray[Any, np.dtype[np.int64]] = np.asarray(data.starts, dtype=np.int64)
        self.names: list[str] = list(data.names)
        if len(self.names) != len(self.starts):
            raise ValueError("one start row per identity name is required")
        # With one face per identity the face scores already are the identity scores.
        self._one_face_each = len(self.starts) == self.embeddings.shape[0]

    @property
    def identity_count(self) -> int:
        return len(self.names)

    @property
    def face_count(self) -> int:
        return int(self.embeddings.shape[0])

    def nbytes(self) -> int:
        """Approximate memory held by this matcher (matrix, index and names)."""
        names = sum(len(n) for n in self.names) + 57 * len(self.names)  # str header + list slot, roughly
        return int(self.embeddings.nbytes + self.starts.nbytes + names)

    def identity_scores(self, queries: Embedding) -> Embedding:
        """Similarity of each identity to each query row: shape (identity_count, n_queries)."""
        face_scores = self._face_scores(queries)
        if self._one_face_each:
            return face_scores
        return np.maximum.reduceat(face_scores, self.starts, axis=0)

    def _face_scores(self, queries: Embedding) -> Embedding:
        # A matrix-vector product only streams the matrix once; numpy's einsum loop does that at memory
        # bandwidth, where OpenBLAS's sgemv measured ~2-3x slower. Larger batches amortise a real GEMM.
        if queries.shape[0] <= _ROWWISE_MAX_QUERIES:
            columns = [np.einsum("ij,j->i", self.embeddings, row) for row in queries]
            return np.stack(columns, axis=1)
        return self.embeddings @ queries.T

    def search(self, queries: Embedding, top_k: int) -> list[list[Candidate]]:
        """For each query row, up to ``top_k`` candidates, best first (ties broken by gallery order)."""
        if self.identity_count == 0:
            return [[] for _ in range(queries.shape[0])]
        k = min(top_k, self.identity_count)
        rows_per_block = max(1, _MAX_BLOCK_ELEMENTS // max(1, self.face_count))
        results: list[list[Candidate]] = []
        for begin in range(0, queries.shape[0], rows_per_block):
            scores = self.identity_scores(queries[begin : begin + rows_per_block])
            results.extend(self._top_k(np.ascontiguousarray(column), k) for column in scores.T)
        return results

    def _top_k(self, scores: Embedding, k: int) -> list[Candidate]:
        best = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
        order = best[np.lexsort((best, -scores[best]))]
        return [Candidate(name=self.names[i], similarity=float(np.clip(scores[i], -1.0, 1.0))) for i in order]
