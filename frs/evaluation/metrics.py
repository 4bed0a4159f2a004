"""Accuracy metrics for face identification (closed and open set) and verification.

Pure numpy, no I/O. Similarities are "higher means more alike" (cosine). Every decision in this module uses
the same rule: a score is **accepted when ``score >= threshold``**.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The FAR operating points reported by default.
DEFAULT_FAR_TARGETS: tuple[float, ...] = (1e-2, 1e-3)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


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


# ------------------------------------------------------------------------------------------- identification


def top_k_accuracy(similarity: npt.ArrayLike, true_index: npt.ArrayLike, k: int) -> float | None:
    """Share of enrolled probes whose true identity is among the ``k`` most similar gallery identities.

    ``similarity`` is ``(n_probes, n_identities)``; ``true_index[i]`` is the column of probe ``i``'s
    identity, or ``-1`` when that identity is not enrolled. Such probes are excluded here (open-set metrics
    handle them). Ties count against the probe: its rank is 1 + the number of *other* identities scoring
    ``>=`` its true one.
    Returns ``None`` when no probe is enrolled.

    >>> sim = np.array([[0.9, 0.1, 0.3],
    ...                 [0.2, 0.4, 0.8],
    ...                 [0.5, 0.5, 0.1],
    ...                 [0.7, 0.6, 0.2]])
    >>> top_k_accuracy(sim, [0, 1, 2, -1], k=1)  # only probe 0 ranks its identity first
    0.3333333333333333
    >>> top_k_accuracy(sim, [0, 1, 2, -1], k=2)  # probe 1 ranks it second; probe 3 is not enrolled
    0.6666666666666666
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    sim = np.asarray(similarity, dtype=np.float64)
    truth = np.asarray(true_index, dtype=np.int64).reshape(-1)
    if sim.ndim != 2 or sim.shape[0] != truth.shape[0]:
        raise ValueError("similarity must be (n_probes, n_identities) with one true_index per probe")
    if (truth >= sim.shape[1]).any() or (truth < -1).any():
        raise ValueError("true_index must be a column of similarity or -1")
    enrolled = truth >= 0
    if not enrolled.any():
        return None
    sim = sim[enrolled]
    truth = truth[enrolled]
    true_scores = sim[np.arange(truth.shape[0]), truth]
    # The true column itself satisfies ">=", so this count is already 1 + the others.
    rank = (sim >= true_scores[:, None]).sum(axis=1)
    return float((rank <= k).mean())


@dataclass(frozen=True)
class OpenSetMetrics:
    """Open-set identification outcome at one threshold (see :func:`open_set_metrics` for the definitions)."""

    threshold: float
    n_known: int
    n_unknown: int
    true_accepts: int  # known, accepted and top-1 correct
    misidentified: int  # known, accepted, but top-1 is another identity
    false_rejects: int  # known, not accepted
    false_accepts: int  # unknown, accepted
    precision: float | None
    recall: float | None
    false_accept_rate: float | None
    false_reject_rate: float | None
    misidentification_rate: float | None


def open_set_metrics(
    best_similarity: npt.ArrayLike,
    is_known: npt.ArrayLike,
    top1_correct: npt.ArrayLike,
    threshold: float,
) -> OpenSetMetrics:
    """Known-vs-unknown decisions at ``threshold`` for probes against a gallery.

    Per probe: ``best_similarity`` (its top-1 score over gallery identities), ``is_known`` (its identity is
    enrolled) and ``top1_correct`` (the top-1 identity is its own; ignored for unknown probes). A probe is
    *accepted* when ``best_similarity >= threshold``. Then:

    - true accept (TA): known, accepted, top-1 correct;
    - misidentified: known, accepted, top-1 wrong (counted as an error, never as a true accept);
    - false reject (FR): known, not accepted;
    - false accept (FA): unknown, accepted;
    - precision = TA / accepted (all accepted probes, known or not); ``None`` if nothing was accepted;
    - recall = TA / known (the detection-and-identification rate); ``None`` without known probes;
    - false-accept rate = FA / unknown; ``None`` without unknown probes;
    - false-reject rate = FR / known; misidentification rate = misidentified / known, so
      recall + false-reject rate + misidentification rate = 1.

    >>> m = open_set_metrics([0.9, 0.8, 0.3, 0.7, 0.2], [True, True, True, False, False],
    ...                      [True, False, True, False, False], threshold=0.5)
    >>> m.true_accepts, m.misidentified, m.false_rejects, m.false_accepts
    (1, 1, 1, 1)
    >>> m.precision, m.recall, m.false_accept_rate
    (0.3333333333333333, 0.3333333333333333, 0.5)
    """
    best = _scores(best_similarity, "best_similarity")
    known = np.asarray(is_known, dtype=bool).reshape(-1)
    correct = np.asarray(top1_correct, dtype=bool).reshape(-1)
    if not best.shape == known.shape == correct.shape:
        raise ValueError("best_similarity, is_known and top1_correct must have the same length")
    accepted = best >= threshold
    n_known = int(known.sum())
    n_unknown = int((~known).sum())
    true_accepts = int((known & accepted & correct).sum())
    misidentified = int((known & accepted & ~correct).sum())
    false_rejects = int((known & ~accepted).sum())
    false_accepts = int((~known & accepted).sum())
    return OpenSetMetrics(
        threshold=float(threshold),
        n_known=n_known,
        n_unknown=n_unknown,
        true_accepts=true_accepts,
        misidentified=misidentified,
        false_rejects=false_rejects,
        false_accepts=false_accepts,
        precision=_ratio(true_accepts, int(accepted.sum())),
        recall=_ratio(true_accepts, n_known),
        false_accept_rate=_ratio(false_accepts, n_unknown),
        false_reject_rate=_ratio(false_rejects, n_known),
        misidentification_rate=_ratio(misidentified, n_known),
    )


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


@dataclass(frozen=True)
class TarAtFar:
    """The best TAR whose FAR does not exceed ``target_far``, and the threshold that achieves it."""

    target_far: float
    tar: float
    far: float  # the FAR actually achieved (<= target_far)
    threshold: float  # +inf when the best is to accept nothing


def tar_at_far(roc: RocCurve, target_far: float) -> TarAtFar | None:
    """TAR at the highest operating point with FAR <= ``target_far``.

    Returns ``None`` when there are too few impostor pairs to measure that FAR: with ``n`` impostors the FAR
    moves in steps of ``1/n``, so a target below ``1/n`` could only be met by accepting no impostor at all,
    which says nothing about the target.

    >>> roc = roc_curve([0.9, 0.8, 0.4], [0.7, 0.3, 0.2])
    >>> tar_at_far(roc, 0.5)
    TarAtFar(target_far=0.5, tar=1.0, far=0.3333333333333333, threshold=0.4)
    >>> tar_at_far(roc, 1e-2) is None  # 3 impostors: the smallest non-zero FAR is 1/3
    True
    """
    if not 0.0 < target_far <= 1.0:
        raise ValueError("target_far must be in (0, 1]")
    # A small tolerance so that e.g. 1000 impostors do measure FAR = 1e-3 despite float rounding.
    if roc.n_impostor * target_far < 1.0 - 1e-9:
        return None
    allowed = roc.false_accepts <= np.floor(target_far * roc.n_impostor + 1e-9)
    candidates = np.flatnonzero(allowed)
    # TAR never decreases along the curve, so the last allowed point has the best TAR.
    best = int(candidates[-1])
    # Among points with that TAR, report the one with the lowest FAR (the earliest).
    best = int(np.flatnonzero(roc.true_accepts == roc.true_accepts[best])[0])
    return TarAtFar(
        target_far=float(target_far),
        tar=float(roc.tar[best]),
        far=float(roc.far[best]),
        threshold=float(roc.thresholds[best]),
    )


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
class BestThreshold:
    """The threshold with the best accuracy, with both accuracies and the rates there."""

    threshold: float  # +inf when the best is to accept nothing
    accuracy: float  # (genuine accepted + impostors rejected) / all pairs
    balanced_accuracy: float  # (TAR + 1 - FAR) / 2
    tar: float
    far: float
    criterion: str  # "accuracy" or "balanced_accuracy": which one was maximised


def best_threshold(roc: RocCurve, *, balanced: bool) -> BestThreshold:
    """The ROC point that maximises accuracy (``balanced=False``) or balanced accuracy (``balanced=True``).

    Plain accuracy suits balanced pair lists (like LFW's). When impostor pairs vastly outnumber genuine ones
    (all pairs of a dataset), plain accuracy is maximised by rejecting everything, so use balanced accuracy.
    Ties go to the highest threshold.

    >>> roc = roc_curve([0.9, 0.8, 0.4], [0.7, 0.3, 0.2])
    >>> b = best_threshold(roc, balanced=False)  # 0.8 and 0.4 both get 5 of 6 pairs right
    >>> b.threshold, b.accuracy
    (0.8, 0.8333333333333334)
    """
    tar = roc.tar
    far = roc.far
    accuracy = (roc.true_accepts + (roc.n_impostor - roc.false_accepts)) / (roc.n_genuine + roc.n_impostor)
    balanced_accuracy = (tar + 1.0 - far) / 2.0
    best = int(np.argmax(balanced_accuracy if balanced else accuracy))
    return BestThreshold(
        threshold=float(roc.thresholds[best]),
        accuracy=float(accuracy[best]),
        balanced_accuracy=float(balanced_accuracy[best]),
        tar=float(tar[best]),
        far=float(far[best]),
        criterion="balanced_accuracy" if balanced else "accuracy",
    )


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
