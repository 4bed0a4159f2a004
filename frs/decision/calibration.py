"""A pack's calibrated score distributions: how often two different people score at least ``t``.

``compute_calibration`` takes embeddings with identity labels (one face per row), scores every pair of faces
once, and keeps what an operating point needs: the impostor (different-people) false-match rate
``FMR(t) = P(score >= t)`` as empirical quantiles where there are enough pairs, and a generalised Pareto tail
fitted to the top of the impostor scores for rates too small to observe (down to 1e-7 and beyond). The
genuine (same-person) scores are summarised for reports. The record is plain JSON (``to_dict`` /
``calibration_from_dict``) and lives in the pack manifest under ``"calibration"``.

Pairs from one dataset are not independent (a face appears in many pairs), so the quantiles are only as good
as the number of *people* behind them: the record keeps both counts.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.groups import look_alike_groups
from frs.decision.tail import ParetoTail, fit_pareto_tail
from frs.errors import FRSError

FORMAT_VERSION = 1
#: An empirical quantile is kept only when at least this many impostor pairs score at or above it.
MIN_PAIRS_PER_QUANTILE = 25
#: The Pareto tail is fitted to the top ``TAIL_FRACTION`` of impostor scores (at least ``MIN_TAIL_PAIRS``).
TAIL_FRACTION = 1e-3
MIN_TAIL_PAIRS = 200
#: The impostor scores kept exactly while streaming over pairs; everything else goes to a histogram.
_KEPT_TOP = 200_000
_HISTOGRAM_BINS = 4000  # over [-1, 1]: 5e-4 wide, finer than any threshold anyone sets
_BLOCK = 1024


@dataclass(frozen=True)
class GenuineSummary:
    pairs: int
    mean: float
    std: float
    quantiles: dict[str, float]  # "0.01" -> score below which 1% of genuine pairs fall


@dataclass(frozen=True)
class ImpostorTail:
    """Above ``threshold`` (false-match rate ``rate`` there): ``P(s >= t) = rate * S(t - threshold)``."""

    threshold: float
    rate: float
    pairs: int  # impostor pairs above threshold the fit used
    shape: float
    scale: float

    def pareto(self) -> ParetoTail:
        return ParetoTail(shape=self.shape, scale=self.scale)


@dataclass(frozen=True)
class Calibration:
    pack: str
    dataset: str
    identities: int
    faces: int
    impostor_pairs: int
    impostor_mean: float
    impostor_std: float
    quantiles: tuple[tuple[float, float], ...]  # (false-match rate, score), rate decreasing, score increasing
    tail: ImpostorTail
    genuine: GenuineSummary | None
    groups: int = 1  # look-alike groups impostor pairs were taken within (1: every pair)
    version: int = FORMAT_VERSION

    def false_match_rate(self, threshold: float) -> float:
        """Share of impostor comparisons scoring ``>= threshold``: empirical down to the tail threshold, the
        fitted Pareto tail above it (log-linear interpolation between quantiles)."""
        if threshold >= self.tail.threshold:
            return self.tail.rate * self.tail.pareto().survival(threshold - self.tail.threshold)
        # Every score is >= -1, so the curve starts at (-1, rate 1).
        rates = [1.0, *(rate for rate, _ in self.quantiles)]
        scores = [-1.0, *(score for _, score in self.quantiles)]
        return float(math.exp(np.interp(threshold, scores, np.log(rates))))

    def threshold_at(self, false_match_rate: float) -> float:
        """The lowest score threshold whose false-match rate is at most ``false_match_rate``."""
        if not 0.0 < false_match_rate < 1.0 or not math.isfinite(false_match_rate):
            raise FRSError("bad_request", f"a false-match rate must be in (0, 1), got {false_match_rate!r}")
        if false_match_rate <= self.tail.rate:
            excess = self.tail.pareto().excess_at(false_match_rate / self.tail.rate)
            return min(1.0, self.tail.threshold + excess)
        rates = [1.0, *(rate for rate, _ in self.quantiles)]
        scores = [-1.0, *(score for _, score in self.quantiles)]
        # np.interp wants increasing x: log rates reversed.
        return float(np.interp(math.log(false_match_rate), np.log(rates[::-1]), scores[::-1]))

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["quantiles"] = [[rate, score] for rate, score in self.quantiles]
        return record


def _pair_scores(
    embeddings: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], groups: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], int, float, float, npt.NDArray[np.float64]]:
    """Stream over all pairs i < j: (top impostor scores, impostor histogram, count, sum, sum of squares,
    genuine scores)."""
    top = np.empty(0, dtype=np.float64)
    histogram = np.zeros(_HISTOGRAM_BINS, dtype=np.int64)
    count, total, squares = 0, 0.0, 0.0
    genuine: list[npt.NDArray[np.float64]] = []
    n = embeddings.shape[0]
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        block = (embeddings[start:stop] @ embeddings[start:].T).astype(np.float64)
        rows = np.arange(start, stop)[:, None]
        cols = np.arange(start, n)[None, :]
        upper = cols > rows
        same = labels[start:stop, None] == labels[None, start:]
        same_group = groups[start:stop, None] == groups[None, start:]
        genuine.append(block[upper & same])
        impostor = block[upper & ~same & same_group]
        count += impostor.size
        total += float(impostor.sum())
        squares += float((impostor**2).sum())
        histogram += np.histogram(impostor, bins=_HISTOGRAM_BINS, range=(-1.0, 1.0))[0]
        top = np.concatenate([top, impostor])
        if top.size > _KEPT_TOP:
            top = np.partition(top, top.size - _KEPT_TOP)[-_KEPT_TOP:]
    return np.sort(top)[::-1], histogram, count, total, squares, np.concatenate(genuine)


def _score_at_rank(rank: int, top: npt.NDArray[np.float64], histogram: npt.NDArray[np.int64]) -> float:
    """The ``rank``-th highest impostor score (1-based): exact within the kept top, else the histogram."""
    if rank <= top.size:
        return float(top[rank - 1])
    from_top = np.cumsum(histogram[::-1])  # pairs at or above each bin's lower edge, highest bin first
    index = int(np.searchsorted(from_top, rank))
    return float(1.0 - (index + 1) * (2.0 / _HISTOGRAM_BINS))


def _rate_levels() -> list[float]:
    """0.5, 0.2, then four levels a decade from 0.1 down to 1e-9 (only observed ones are kept)."""
    return [0.5, 0.2, *(10 ** (-k / 4) for k in range(4, 37))]


def compute_calibration(
    embeddings: npt.ArrayLike,
    labels: Sequence[object],
    *,
    pack: str,
    dataset: str,
    groups: Sequence[int] | None = None,
) -> Calibration:
    """The calibration record of a pack from ``embeddings`` (one face per row) labelled by identity.

    With ``groups`` (one group number per face, e.g. from :func:`frs.decision.groups.look_alike_groups`),
    impostor pairs are only taken inside a group: the false-match rate of a population of similar-looking
    people, which is what a real gallery and its strangers often are (see the research note)."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(labels):
        raise FRSError("bad_request", "embeddings must be (faces, dim) with one label per face")
    if not np.isfinite(vectors).all():
        raise FRSError("bad_request", "embeddings contain NaN or infinity")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (norms <= 0).any():
        raise FRSError("bad_request", "an embedding is all zeros")
    vectors = vectors / norms
    _, codes = np.unique(np.asarray([str(label) for label in labels]), return_inverse=True)
    identities = int(codes.max()) + 1 if codes.size else 0
    if identities < 2:
        raise FRSError("bad_request", "calibration needs faces of at least two identities")
    if groups is not None and len(groups) != vectors.shape[0]:
        raise FRSError("bad_request", "groups must give one group per face")
    group_codes = np.zeros(vectors.shape[0], dtype=np.int64) if groups is None else np.asarray(groups)
    top, histogram, count, total, squares, genuine = _pair_scores(
        vectors, codes.astype(np.int64), group_codes.astype(np.int64)
    )
    tail_pairs = max(MIN_TAIL_PAIRS, round(TAIL_FRACTION * count))
    if count < 4 * tail_pairs:
        raise FRSError(
            "bad_request",
            f"{count} impostor pairs is too few to calibrate (need {4 * tail_pairs}): use more identities",
        )
    quantiles = [
        (rate, _score_at_rank(math.ceil(rate * count), top, histogram))
        for rate in _rate_levels()
        if rate * count >= MIN_PAIRS_PER_QUANTILE
    ]
    # The tail threshold is the (tail_pairs + 1)-th score; the fit sees the strictly higher ones.
    threshold = float(top[tail_pairs])
    excesses = top[:tail_pairs] - threshold
    fitted = fit_pareto_tail(excesses[excesses > 0])
    mean = total / count
    summary = None
    if genuine.size:
        summary = GenuineSummary(
            pairs=int(genuine.size),
            mean=float(genuine.mean()),
            std=float(genuine.std()),
            quantiles={f"{q:g}": float(np.quantile(genuine, q)) for q in (0.01, 0.05, 0.1, 0.5)},
        )
    return Calibration(
        pack=pack,
        dataset=dataset,
        identities=identities,
        faces=int(vectors.shape[0]),
        impostor_pairs=count,
        impostor_mean=mean,
        impostor_std=math.sqrt(max(0.0, squares / count - mean**2)),
        quantiles=tuple(quantiles),
        tail=ImpostorTail(
            threshold=threshold,
            rate=tail_pairs / count,
            pairs=tail_pairs,
            shape=fitted.shape,
            scale=fitted.scale,
        ),
        genuine=summary,
        groups=int(np.unique(group_codes).size),
    )


def _invalid(reason: str) -> FRSError:
    # A bad calibration is the operator's pack manifest at fault, never the caller's request.
    return FRSError("model_unavailable", f"invalid pack calibration: {reason}")


def _number(record: dict[str, Any], key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(f"{key} must be a finite number")
    return float(value)


def calibration_from_dict(record: object) -> Calibration:
    """Validate a calibration record read from JSON (``Calibration.to_dict`` output) and build it."""
    if not isinstance(record, dict):
        raise _invalid("not an object")
    if record.get("version") != FORMAT_VERSION:
        raise _invalid(f"version must be {FORMAT_VERSION}")
    raw_quantiles = record.get("quantiles")
    if not isinstance(raw_quantiles, list) or not raw_quantiles:
        raise _invalid("quantiles must be a non-empty list of [rate, score]")
    quantiles: list[tuple[float, float]] = []
    for item in raw_quantiles:
        if not (isinstance(item, list) and len(item) == 2):
            raise _invalid("quantiles must be a non-empty list of [rate, score]")
        rate, score = _number({"q": item[0]}, "q"), _number({"q": item[1]}, "q")
        if not (0.0 < rate < 1.0 and -1.0 <= score <= 1.0):
            raise _invalid("quantile rates must be in (0, 1) and scores in [-1, 1]")
        quantiles.append((rate, score))
    if any(b[0] >= a[0] or b[1] < a[1] for a, b in itertools.pairwise(quantiles)):
        raise _invalid("quantile rates must decrease and scores must not")
    raw_tail = record.get("tail")
    if not isinstance(raw_tail, dict):
        raise _invalid("tail must be an object")
    tail = ImpostorTail(
        threshold=_number(raw_tail, "threshold"),
        rate=_number(raw_tail, "rate"),
        pairs=int(_number(raw_tail, "pairs")),
        shape=_number(raw_tail, "shape"),
        scale=_number(raw_tail, "scale"),
    )
    if not (0.0 < tail.rate < 1.0 and tail.scale > 0 and tail.pairs > 0 and -1.0 <= tail.threshold <= 1.0):
        raise _invalid("tail needs 0 < rate < 1, scale > 0, pairs > 0 and a threshold in [-1, 1]")
    raw_genuine = record.get("genuine")
    genuine = None
    if raw_genuine is not None:
        if not isinstance(raw_genuine, dict) or not isinstance(raw_genuine.get("quantiles"), dict):
            raise _invalid("genuine must be an object with quantiles")
        genuine = GenuineSummary(
            pairs=int(_number(raw_genuine, "pairs")),
            mean=_number(raw_genuine, "mean"),
            std=_number(raw_genuine, "std"),
            quantiles={str(k): _number(raw_genuine["quantiles"], k) for k in raw_genuine["quantiles"]},
        )
    counts = {key: int(_number(record, key)) for key in ("identities", "faces", "impostor_pairs")}
    if min(counts.values()) <= 0:
        raise _invalid("identities, faces and impostor_pairs must be positive")
    return Calibration(
        pack=str(record.get("pack", "")),
        dataset=str(record.get("dataset", "")),
        identities=counts["identities"],
        faces=counts["faces"],
        impostor_pairs=counts["impostor_pairs"],
        impostor_mean=_number(record, "impostor_mean"),
        impostor_std=_number(record, "impostor_std"),
        quantiles=tuple(quantiles),
        tail=tail,
        genuine=genuine,
        groups=int(_number(record, "groups")) if "groups" in record else 1,
    )


def load_pack_calibration(manifest_path: Path) -> Calibration | None:
    """The ``"calibration"`` record of a pack manifest (``PackManifest.path``), or None when it has none.

    A pack without a record cannot turn target rates into thresholds: the caller falls back to the
    recognizer's fixed ``match_threshold`` and should say so in its answers."""
    try:
        raw = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise _invalid(f"cannot read {manifest_path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("calibration") is None:
        return None
    return calibration_from_dict(raw["calibration"])


#: Look-alike group size the shipped calibrations use (research note: groups of ~50 faces reproduced FPIR in
#: homogeneous held-out galleries; all-pairs calibration under-estimated it 4-fold).
DEFAULT_GROUP_SIZE = 50


def calibrate_pack(
    embeddings: npt.ArrayLike,
    labels: Sequence[object],
    *,
    pack: str,
    dataset: str,
    group_size: int | None = DEFAULT_GROUP_SIZE,
) -> Calibration:
    """What ``frs calibrate DATASET`` stores: impostor pairs inside look-alike groups of ~``group_size``
    faces (``None``: every pair), so the operating point holds for galleries of similar-looking people."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    groups = None
    if group_size is not None:
        if group_size < 2:
            raise FRSError("bad_request", f"group_size must be at least 2, got {group_size}")
        count = max(1, round(vectors.shape[0] / group_size))
        groups = look_alike_groups(vectors, count).tolist() if vectors.ndim == 2 and count > 1 else None
    return compute_calibration(vectors, labels, pack=pack, dataset=dataset, groups=groups)
