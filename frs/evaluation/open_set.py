"""Open-set identification rates as NIST FRVT defines them (rank 1), from the scores of gallery searches.

A search compares one probe with every enrolled identity and names the best one when its score reaches the
threshold ``t`` (the rule FRS applies). Then, for a gallery of ``N`` enrolled identities:

- **FNIR(N, t)**, false negative identification rate: the share of *mated* searches (the probe's identity
  is enrolled) that do not name the right person: the mate is not rank 1, or its score is below ``t``. A
  search that failed (no face in the probe, or the mate's enrolment photo gave no face) is a miss too.
- **FPIR(N, t)**, false positive identification rate: the share of *non-mated* searches (the probe's
  identity is not enrolled) that name anyone: the best score reaches ``t``. A failed search names nobody.

Both follow from two numbers per search, which is all :class:`SearchScores` keeps: for a mated search the
mate's score when it is rank 1 (ties count against it) and ``-inf`` otherwise; for a non-mated search the
best score (``-inf`` when there was nothing to compare). The DET curve (FNIR against FPIR over every
threshold) is then the ROC of those two score sets, computed exactly by
:func:`frs.evaluation.metrics.roc_curve`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from frs.evaluation.metrics import RocCurve, roc_curve, threshold_at_rate
from frs.evaluation.rates import Rate

FloatArray = npt.NDArray[np.float64]
MISS = -np.inf


def search_scores(similarity: npt.ArrayLike, mate: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Per probe, the score that decides it: ``(rank-1 mate score, best score)``.

    ``similarity`` is ``(probes, identities)``; ``mate[i]`` is probe ``i``'s column, or -1 when its identity
    is not in the gallery. The first result is ``-inf`` unless the mate scores strictly above every other
    identity (so a probe whose mate ties with someone else is a miss); the second is ``-inf`` for an empty
    gallery.

    >>> sim = np.array([[0.9, 0.2], [0.3, 0.3], [0.1, 0.6]])
    >>> search_scores(sim, [0, 0, -1])
    (array([ 0.9, -inf, -inf]), array([0.9, 0.3, 0.6]))
    """
    scores = np.asarray(similarity, dtype=np.float64)
    column = np.asarray(mate, dtype=np.int64).reshape(-1)
    if scores.ndim != 2 or scores.shape[0] != column.shape[0]:
        raise ValueError("similarity must be (probes, identities) with one mate column per probe")
    if (column >= scores.shape[1]).any() or (column < -1).any():
        raise ValueError("a mate must be a column of similarity or -1")
    probes = scores.shape[0]
    if scores.shape[1] == 0:
        return np.full(probes, MISS), np.full(probes, MISS)
    best = scores.max(axis=1)
    rows = np.arange(probes)
    mate_score = np.where(column >= 0, scores[rows, np.maximum(column, 0)], MISS)
    # Rank 1 only if no other identity scores as high: the mate's own column is the one ">=" allowed.
    alone_on_top = (scores >= mate_score[:, None]).sum(axis=1) == 1
    rank_one = np.where((column >= 0) & alone_on_top, mate_score, MISS)
    return rank_one, best


@dataclass(frozen=True)
class SearchScores:
    """The deciding scores of a set of searches (see the module docstring), pooled over any number of draws.

    ``mated_wrong`` is, per mated search whose mate is not rank 1, the best (wrong) identity's score, else
    ``-inf``: it tells "named as someone else" apart from "not named" at a threshold. Failed searches are
    ``-inf`` everywhere.
    """

    mated: FloatArray
    mated_wrong: FloatArray
    nonmated: FloatArray

    @staticmethod
    def of(
        similarity_mated: npt.ArrayLike, mate: npt.ArrayLike, similarity_nonmated: npt.ArrayLike
    ) -> SearchScores:
        """From the similarity matrices of the mated probes (with their mate columns) and the non-mated."""
        rank_one, best = search_scores(similarity_mated, mate)
        nonmated = np.asarray(similarity_nonmated, dtype=np.float64)
        _, best_nonmated = search_scores(nonmated, np.full(nonmated.shape[0], -1))
        wrong = np.where(np.isneginf(rank_one), best, MISS)
        return SearchScores(rank_one, wrong, best_nonmated)

    @staticmethod
    def failed(mated: int, nonmated: int) -> SearchScores:
        """Searches that could not run (no probe face): misses when mated, silent when non-mated."""
        return SearchScores(np.full(mated, MISS), np.full(mated, MISS), np.full(nonmated, MISS))

    def __add__(self, other: SearchScores) -> SearchScores:
        return SearchScores(
            np.concatenate([self.mated, other.mated]),
            np.concatenate([self.mated_wrong, other.mated_wrong]),
            np.concatenate([self.nonmated, other.nonmated]),
        )

    def at(self, threshold: float) -> OpenSetRates:
        """FNIR and FPIR when naming the best identity whose score is ``>= threshold``."""
        return OpenSetRates(
            threshold=float(threshold),
            fnir=Rate(int((self.mated < threshold).sum()), int(self.mated.size)),
            fpir=Rate(int((self.nonmated >= threshold).sum()), int(self.nonmated.size)),
            named_wrongly=int((self.mated_wrong >= threshold).sum()),
        )

    def det(self) -> RocCurve:
        """The exact DET curve as an ROC: ``fpir = far``, ``fnir = 1 - tar`` at every threshold."""
        return roc_curve(self.mated, self.nonmated)


@dataclass(frozen=True)
class OpenSetRates:
    threshold: float
    fnir: Rate
    fpir: Rate
    named_wrongly: int  # mated searches named as someone else (part of FNIR's count)


def fnir_at_fpir(scores: SearchScores, target_fpir: float, *, distinct_nonmated: int) -> OpenSetRates | None:
    """The rates at the lowest threshold whose FPIR on these non-mated searches is at most ``target_fpir``
    (the threshold depends on the non-mated searches only, as in FRVT).

    ``None`` (not measurable) unless there are at least ``1 / target_fpir`` *distinct* non-mated photos:
    pooled draws repeat the same photos, and a threshold fitted to fewer photos than that is set by the one or
    two strangers who score highest, whatever the count of searches says.
    """
    if distinct_nonmated * target_fpir < 1.0 - 1e-9 or scores.mated.size == 0:
        return None
    threshold = threshold_at_rate(scores.nonmated, target_fpir)
    return None if threshold is None else scores.at(threshold)
