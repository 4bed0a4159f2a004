"""Every pair of faces scored once, in blocks: impostor scores with a weight per pair, and genuine scores.

A calibration needs the share of impostor comparisons scoring at least ``t`` over some *population* of
comparisons. Which population is a weighting of the pairs (:class:`PairWeights`):

- each identity weighs one (what FRS calibrates on): a gallery holds a photo or two per person, and a
  stranger is one of many passers-by, so a pair of faces ``(p, k)`` counts ``probe(p) * gallery(k) +
  probe(k) * gallery(p)`` with ``gallery = 1 / photos of the identity`` and ``probe = min(1, cap / photos)``:
  the false-match rate of a random stranger's photo against a random enrolled person's photo, where a person
  with hundreds of photos cannot outvote everyone else;
- every pair of faces alike (``scripts/openset_methods.py`` compares it), which lets people with many photos
  dominate.

Either may be restricted to pairs inside groups (look-alike groups, :mod:`frs.decision.groups`).
Only the top impostor scores are kept exactly (for the tail fit); the rest go to a weighted histogram.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
#: The impostor scores kept exactly while streaming over pairs; everything else goes to a histogram.
KEPT_TOP = 200_000
HISTOGRAM_BINS = 4000  # over [-1, 1]: 5e-4 wide, finer than any threshold anyone sets
_BLOCK = 1024


@dataclass(frozen=True)
class PairWeights:
    """Per face: its weight as the probe of a comparison and as the enrolled face (see the module docstring),
    and its group (pairs across groups are left out)."""

    probe: FloatArray
    gallery: FloatArray
    groups: npt.NDArray[np.int64]

    @staticmethod
    def each_identity_weighs_one(
        codes: npt.NDArray[np.int64], probe_cap: int | None, groups: npt.ArrayLike | None = None
    ) -> PairWeights:
        photos = np.bincount(codes)[codes].astype(np.float64)
        probe = np.ones_like(photos) if probe_cap is None else np.minimum(1.0, probe_cap / photos)
        group = np.zeros(codes.size, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        return PairWeights(probe, 1.0 / photos, group)

    @staticmethod
    def every_pair(faces: int, groups: npt.ArrayLike | None = None) -> PairWeights:
        ones = np.full(faces, np.sqrt(0.5))  # probe * gallery + gallery * probe = 1 for every pair
        group = np.zeros(faces, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
        return PairWeights(ones, ones, group)


@dataclass(frozen=True)
class PairScores:
    """What the stream kept: impostor ``top`` scores (descending) with their weights, a weighted histogram of
    all impostor scores, totals, and every genuine (same-identity) score."""

    top: FloatArray
    top_weights: FloatArray
    histogram: FloatArray
    count: int  # impostor pairs
    total_weight: float
    weighted_mean: float
    weighted_std: float
    effective_pairs: float  # pairs of people they are worth (see effective_identity_pairs)
    genuine: FloatArray

    def score_at_rate(self, rate: float) -> float:
        """The score above which a share ``rate`` of the impostor weight lies: exact within the kept top,
        else from the histogram."""
        wanted = rate * self.total_weight
        cumulative = np.cumsum(self.top_weights)
        if cumulative.size and wanted <= cumulative[-1]:
            return float(self.top[int(np.searchsorted(cumulative, wanted * (1 - 1e-12)))])
        from_top = np.cumsum(self.histogram[::-1])  # weight at or above each bin's lower edge, top bin first
        index = int(np.searchsorted(from_top, wanted * (1 - 1e-12)))
        return float(1.0 - (index + 1) * (2.0 / HISTOGRAM_BINS))


def score_pairs(
    vectors: npt.NDArray[np.float32], codes: npt.NDArray[np.int64], weights: PairWeights
) -> PairScores:
    """Stream over all pairs ``i < j`` of unit ``vectors`` labelled by identity ``codes``."""
    top = np.empty(0, dtype=np.float64)
    top_w = np.empty(0, dtype=np.float64)
    histogram = np.zeros(HISTOGRAM_BINS, dtype=np.float64)
    count, total, first, second = 0, 0.0, 0.0, 0.0
    genuine: list[FloatArray] = []
    n = vectors.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        block = (vectors[start:stop] @ vectors[start:].T).astype(np.float64)
        upper = np.arange(start, n)[None, :] > np.arange(start, stop)[:, None]
        same = codes[start:stop, None] == codes[None, start:]
        kept = upper & ~same & (weights.groups[start:stop, None] == weights.groups[None, start:])
        genuine.append(block[upper & same])
        pair_w = (
            weights.probe[start:stop, None] * weights.gallery[None, start:]
            + weights.gallery[start:stop, None] * weights.probe[None, start:]
        )
        scores, w = block[kept], pair_w[kept]
        count += scores.size
        total += float(w.sum())
        first += float(w @ scores)
        second += float(w @ (scores**2))
        histogram += np.histogram(scores, bins=HISTOGRAM_BINS, range=(-1.0, 1.0), weights=w)[0]
        top, top_w = np.concatenate([top, scores]), np.concatenate([top_w, w])
        if top.size > KEPT_TOP:
            keep = np.argpartition(top, top.size - KEPT_TOP)[-KEPT_TOP:]
            top, top_w = top[keep], top_w[keep]
    order = np.argsort(-top, kind="stable")
    mean = first / total if total else 0.0
    return PairScores(
        top=top[order],
        top_weights=top_w[order],
        histogram=histogram,
        count=count,
        total_weight=total,
        weighted_mean=mean,
        weighted_std=float(np.sqrt(max(0.0, second / total - mean**2))) if total else 0.0,
        effective_pairs=effective_identity_pairs(codes, weights),
        genuine=np.concatenate(genuine) if genuine else np.zeros(0),
    )


def effective_identity_pairs(codes: npt.NDArray[np.int64], weights: PairWeights) -> float:
    """What the weighted impostor pairs are worth as independent comparisons: Kish's effective sample size
    ``(sum W)^2 / sum W^2`` over pairs of *people* (two photos of the same two people are one comparison
    seen twice, not two), where ``W`` sums the weights of their face pairs. A face's identity and group
    make one unit; units of one group and different identities pair."""
    units, unit_of = np.unique(np.stack([weights.groups, codes]), axis=1, return_inverse=True)
    unit_of = unit_of.reshape(-1)
    probe = np.bincount(unit_of, weights=weights.probe)
    gallery = np.bincount(unit_of, weights=weights.gallery)
    group, identity = units
    total, squares = 0.0, 0.0
    for start in range(0, probe.size, _BLOCK):
        stop = min(probe.size, start + _BLOCK)
        pair_w = probe[start:stop, None] * gallery[None, :] + gallery[start:stop, None] * probe[None, :]
        upper = np.arange(probe.size)[None, :] > np.arange(start, stop)[:, None]
        kept = (
            upper
            & (group[start:stop, None] == group[None, :])
            & (identity[start:stop, None] != identity[None, :])
        )
        total += float(pair_w[kept].sum())
        squares += float((pair_w[kept] ** 2).sum())
    return total**2 / squares if squares else 0.0
