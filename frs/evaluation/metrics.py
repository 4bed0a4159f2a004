"""Score-curve metrics: the exact ROC of two score sets, the best TAR under a false-accept budget, the EER.

Used for 1:1 verification (genuine vs impostor pairs) and, with mated and non-mated searches in their place,
for the open-set DET curve (:mod:`frs.evaluation.open_set`). Pure numpy, no I/O. Scores are "higher means
more alike"; every decision uses the same rule: a score is **accepted when ``score >= threshold``**. A score
of ``-inf`` is never accepted at a finite threshold (a search that failed, or whose mate was not rank 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The FAR operating points reported by default.
DEFAULT_FAR_TARGETS: tuple[float, ...] = (1e-2, 1e-3, 1e-4)


def _scores(values: npt.ArrayLike, name: str) -> npt.NDArray[np.floating]:
    array = np.asarray(values)
    if array.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be numeric")
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    array = array.reshape(-1)
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN")
    return array


# --------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class RocCurve:
    """The exact ROC: one point per distinct score, thresholds descending.

    Point ``i`` accepts every score ``>= thresholds[i]``. The first point has threshold ``+inf`` (accept
    nothing: TAR = FAR = 0); the last accepts everything (TAR = FAR = 1).
    """

    thresholds: FloatArray
    true_accepts: IntArray  # genuine scores >= threshold
    false_accepts: IntArray  # impostor scores >= threshold
    n_genuine: int
    n_impostor: int

    @property
    def tar(self) -> FloatArray:
        """True-accept rate per point (genuine pairs accepted / genuine pairs)."""
        return self.true_accepts / self.n_genuine

    @property
    def far(self) -> FloatArray:
        """False-accept rate per point (impostor pairs accepted / impostor pairs)."""
        return self.false_accepts / self.n_impostor

    def thinned(self, max_points: int = 200) -> RocCurve:
        """A subset of the exact points, spread evenly on a log-FAR scale, for JSON and plots.

        The kept points are exact ROC points; the first and last are always kept.
        """
        n = self.thresholds.shape[0]
        if n <= max_points:
            return self
        far = self.far
        smallest = 1.0 / self.n_impostor
        targets = np.geomspace(smallest, 1.0, max_points - 2)
        picked = np.searchsorted(far, targets, side="right") - 1  # last point with FAR <= target
        keep = np.unique(np.concatenate([[0, n - 1], np.clip(picked, 0, n - 1)]))
        return RocCurve(
            thresholds=self.thresholds[keep],
            true_accepts=self.true_accepts[keep],
            false_accepts=self.false_accepts[keep],
            n_genuine=self.n_genuine,
            n_impostor=self.n_impostor,
        )


def roc_curve(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> RocCurve:
    """The exact ROC of genuine (same person) and impostor (different people) similarity scores.

    Evaluated at every distinct score, so no point is interpolated. Both arrays must be non-empty.

    >>> roc = roc_curve([0.9, 0.8, 0.4], [0.7, 0.3, 0.2])
    >>> roc.thresholds.tolist()
    [inf, 0.9, 0.8, 0.7, 0.4, 0.3, 0.2]
    >>> roc.true_accepts.tolist(), roc.false_accepts.tolist()
    ([0, 1, 2, 2, 3, 3, 3], [0, 0, 0, 1, 1, 2, 3])
    """
    gen = np.sort(_scores(genuine, "genuine"))
    imp = np.sort(_scores(impostor, "impostor"))
    if gen.size == 0 or imp.size == 0:
        raise ValueError("the ROC needs at least one genuine and one impostor score")
    distinct = np.unique(np.concatenate([gen, imp]))[::-1]
    # Counting ">= t" in an ascending array: everything from the first index holding t onwards.
    true_accepts = gen.size - np.searchsorted(gen, distinct, side="left")
    false_accepts = imp.size - np.searchsorted(imp, distinct, side="left")
    return RocCurve(
        thresholds=np.concatenate([[np.inf], distinct.astype(np.float64)]),
        true_accepts=np.concatenate([[0], true_accepts]).astype(np.int64),
        false_accepts=np.concatenate([[0], false_accepts]).astype(np.int64),
        n_genuine=int(gen.size),
        n_impostor=int(imp.size),
    )


def threshold_at_rate(negatives: npt.ArrayLike, target: float) -> float | None:
    """The lowest threshold accepting at most a share ``target`` of ``negatives`` (impostor pairs, or the best
    scores of non-mated searches): an operating point fixed on the negatives alone, as NIST FRVT fixes FNIR
    "at FPIR = 1%" and TAR "at FAR = 0.1%".

    ``None`` when there are fewer than ``1 / target`` negatives: the rate moves in steps of ``1 / n``, so a
    smaller target could only be met by accepting none, which says nothing about the target.

    >>> threshold_at_rate([0.7, 0.3, 0.2, 0.1], 0.25)  # one of four may pass: just above the second best
    0.30000000000000004
    >>> threshold_at_rate([0.7, 0.3, 0.2], 0.1) is None
    True
    """
    if not 0.0 < target < 1.0:
        raise ValueError("target must be in (0, 1)")
    scores = np.sort(np.asarray(_scores(negatives, "negatives"), dtype=np.float64))[::-1]
    # A small tolerance so that e.g. 1000 negatives do measure 1e-3 despite float rounding.
    allowed = int(np.floor(target * scores.size + 1e-9))
    if allowed < 1:
        return None
    # Everything strictly above the (allowed+1)-th best score passes: at most `allowed`, fewer on ties.
    return float(np.nextafter(scores[allowed], np.inf))


@dataclass(frozen=True)
class EqualErrorRate:
    """Where the false-accept rate equals the false-reject rate (1 - TAR)."""

    rate: float
    threshold: float


def equal_error_rate(roc: RocCurve) -> EqualErrorRate:
    """EER, linearly interpolated between the two adjacent ROC points where FAR - FRR changes sign.

    Along the curve FAR rises from 0 to 1 and FRR falls from 1 to 0, so ``d = FAR - FRR`` rises from -1 to 1.
    If a point has ``d == 0`` its FAR is the EER and its score the threshold. Otherwise, between the last
    point with ``d < 0`` and the first with ``d > 0``, FAR, FRR and the threshold are interpolated with the
    same weight, chosen so that the interpolated FAR equals the interpolated FRR. When the bracketing point is
    the ``+inf`` start, the threshold is the first real score.

    >>> equal_error_rate(roc_curve([0.9, 0.8, 0.4], [0.7, 0.3, 0.2]))  # exact crossing at score 0.7
    EqualErrorRate(rate=0.3333333333333333, threshold=0.7)
    >>> eer = equal_error_rate(roc_curve([0.9, 0.8, 0.3], [0.5, 0.1]))  # crossing between 0.8 and 0.5
    >>> round(eer.rate, 6), round(eer.threshold, 6)
    (0.333333, 0.6)
    """
    far = roc.far
    frr = 1.0 - roc.tar
    diff = far - frr
    after = int(np.flatnonzero(diff >= 0)[0])  # exists: the last point has diff = 1
    if diff[after] == 0:
        return EqualErrorRate(rate=float(far[after]), threshold=float(roc.thresholds[after]))
    before = after - 1  # exists: the first point has diff = -1
    weight = -diff[before] / (diff[after] - diff[before])
    rate = far[before] + weight * (far[after] - far[before])
    upper = roc.thresholds[before]
    lower = roc.thresholds[after]
    threshold = lower if np.isinf(upper) else upper + weight * (lower - upper)
    return EqualErrorRate(rate=float(rate), threshold=float(threshold))


@dataclass(frozen=True)
class RatesAtThreshold:
    """Verification rates at one fixed threshold (the service's match threshold)."""

    threshold: float
    tar: float
    far: float


def rates_at_threshold(genuine: npt.ArrayLike, impostor: npt.ArrayLike, threshold: float) -> RatesAtThreshold:
    """TAR and FAR when accepting scores ``>= threshold``.

    >>> rates_at_threshold([0.9, 0.8, 0.4], [0.7, 0.3, 0.2], 0.5)
    RatesAtThreshold(threshold=0.5, tar=0.6666666666666666, far=0.3333333333333333)
    """
    gen = _scores(genuine, "genuine")
    imp = _scores(impostor, "impostor")
    if gen.size == 0 or imp.size == 0:
        raise ValueError("rates need at least one genuine and one impostor score")
    return RatesAtThreshold(
        threshold=float(threshold),
        tar=float((gen >= threshold).mean()),
        far=float((imp >= threshold).mean()),
    )
