"""Approximate search over one gallery version: the index proposes faces, the exact matrix decides.

For each query the HNSW index returns ``max(MIN_FETCH, FETCH_PER_K * top_k)`` nearest faces. Their identities
are the candidates; each candidate's similarity is then recomputed *exactly* as the max over all of that
identity's faces in the float32 matrix, and candidates are ranked like :class:`Matcher` ranks (similarity,
then gallery order). So a result can only ever contain identities of this version with their exact scores;
approximation can only make a true top-k identity go missing (recall), never invent one. If fewer than
``top_k`` distinct identities come back, or ``top_k`` is larger than the index is tuned for, that query is
answered by the exact matcher instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from frs.gallery.search.ann.keys import KeyLookup, Keys
from frs.gallery.search.exact import Matcher
from frs.gallery.search.matrix import MatrixData
from frs.gallery.types import Candidate, Embedding

if TYPE_CHECKING:  # usearch loads only when a gallery is large enough to need it
    from usearch.index import Index

FETCH_PER_K = 40  # faces fetched per requested identity (an identity has several faces)
MIN_FETCH = 200
MAX_ANN_TOP_K = 50  # beyond this the fetch gets large enough that exact search is the better tool


class AnnMatcher(Matcher):
    """A :class:`Matcher` whose ``search`` asks an ANN index for candidates first."""

    def __init__(
        self, data: MatrixData, index: Index, lookup: KeyLookup, *, tag: str, keepalive: object = None
    ) -> None:
        super().__init__(data)
        self.index = index
        self._keepalive = keepalive  # the mapping a viewed index reads from: must outlive every search
        self.lookup = lookup
        self.tag = tag  # the gallery version (write id) this matcher serves
        self._ends: np.ndarray[Any, np.dtype[np.int64]] = np.append(self.starts[1:], self.face_count)
        self.exact_fallbacks = 0  # queries answered exactly because the index returned too few identities

    def search(self, queries: Embedding, top_k: int) -> list[list[Candidate]]:
        """Like :meth:`Matcher.search` (same shape, order and similarities), via the index when it can."""
        k = min(top_k, self.identity_count)
        if k == 0 or top_k > MAX_ANN_TOP_K or k == self.identity_count:
            return super().search(queries, top_k)
        fetch = min(self.face_count, max(MIN_FETCH, FETCH_PER_K * top_k))
        matches: Any = self.index.search(queries, fetch)
        keys = np.asarray(matches.keys, dtype=np.uint64)
        if keys.ndim == 2:  # BatchMatches: one padded row per query
            found = [keys[i, : int(matches.counts[i])] for i in range(queries.shape[0])]
        else:  # Matches: a single query
            found = [keys]
        results: list[list[Candidate]] = []
        for query, candidates in zip(queries, found, strict=True):
            ranked = self._rank(query, candidates, k)
            if ranked is None:
                self.exact_fallbacks += 1
                ranked = super().search(query[None, :], top_k)[0]
            results.append(ranked)
        return results

    def _rank(self, query: Embedding, keys: Keys, k: int) -> list[Candidate] | None:
        rows = self.lookup.rows(keys)
        identities = np.unique(np.searchsorted(self.starts, rows, side="right") - 1)
        if identities.size < k:
            return None
        begins = self.starts[identities]
        lengths = self._ends[identities] - begins
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        face_rows = np.repeat(begins - offsets, lengths) + np.arange(int(lengths.sum()))
        face_scores = np.einsum("ij,j->i", self.embeddings[face_rows], query)
        scores = np.maximum.reduceat(face_scores, offsets)
        best = np.lexsort((identities, -scores))[:k]
        return [
            Candidate(name=self.names[int(identities[i])], similarity=float(np.clip(scores[i], -1.0, 1.0)))
            for i in best
        ]
