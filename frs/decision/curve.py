"""A false-match-rate curve: the share of impostor comparisons of one population scoring at least ``t``.

``FMR(t)`` is kept as empirical quantiles where enough comparisons back them, and above that as a generalised
Pareto tail fitted to the top impostor scores, for rates too small to observe. The smallest rate the quantiles
reach (:attr:`ImpostorCurve.measured_down_to`) is where measurement ends and extrapolation begins: a
threshold asked for below it is flagged ``extrapolated`` in answers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from frs.decision.pairs import PairScores
from frs.decision.tail import ParetoTail, fit_pareto_tail
from frs.errors import FRSError

#: An empirical quantile is kept only when at least this many (effective) impostor pairs score above it.
MIN_PAIRS_PER_QUANTILE = 10
#: The Pareto tail is fitted to the top ``TAIL_FRACTION`` of the impostor weight (>= ``MIN_TAIL_PAIRS``).
TAIL_FRACTION = 1e-3
MIN_TAIL_PAIRS = 200
#: Populations a curve can describe (see :mod:`frs.decision.pairs`).
EACH_IDENTITY = "each_identity_weighs_one"
EVERY_PAIR = "every_pair"
LOOK_ALIKE = "look_alike_groups"
POPULATIONS = (EACH_IDENTITY, EVERY_PAIR, LOOK_ALIKE)


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
class ImpostorCurve:
    population: str  # one of POPULATIONS
    impostor_pairs: int  # pairs of faces behind the curve
    effective_pairs: float  # independent pairs of people they are worth; bounds the smallest rate measured
    impostor_mean: float
    impostor_std: float
    quantiles: tuple[tuple[float, float], ...]  # (false-match rate, score), rate decreasing, score increasing
    tail: ImpostorTail
    groups: int = 1  # look-alike groups pairs were taken within (1: every pair)

    def _knots(self) -> tuple[list[float], list[float]]:
        """The measured points of the curve, score increasing: every score is >= -1 (rate 1), then the
        quantiles, then the tail's start when it lies beyond them (its rate is measured too)."""
        scores = [-1.0, *(score for _, score in self.quantiles)]
        rates = [1.0, *(rate for rate, _ in self.quantiles)]
        if self.tail.threshold > scores[-1] and self.tail.rate < rates[-1]:
            scores.append(self.tail.threshold)
            rates.append(self.tail.rate)
        return scores, rates

    @property
    def measured_down_to(self) -> float:
        """The smallest false-match rate backed by observed pairs rather than the fitted tail."""
        return self._knots()[1][-1]

    def false_match_rate(self, threshold: float) -> float:
        """Share of impostor comparisons scoring ``>= threshold``: log-linear between the measured points,
        and beyond the last one the fitted Pareto tail, scaled to pass through it."""
        scores, rates = self._knots()
        if threshold <= scores[-1]:
            return float(math.exp(np.interp(threshold, scores, np.log(rates))))
        tail = self.tail.pareto()
        anchor = tail.survival(scores[-1] - self.tail.threshold)
        if anchor <= 0.0:
            return 0.0
        return rates[-1] * tail.survival(threshold - self.tail.threshold) / anchor

    def threshold_at(self, false_match_rate: float) -> float:
        """The lowest score threshold whose false-match rate is at most ``false_match_rate``."""
        if not 0.0 < false_match_rate < 1.0 or not math.isfinite(false_match_rate):
            raise FRSError("bad_request", f"a false-match rate must be in (0, 1), got {false_match_rate!r}")
        scores, rates = self._knots()
        if false_match_rate >= rates[-1]:
            # np.interp wants increasing x: log rates reversed.
            return float(np.interp(math.log(false_match_rate), np.log(rates[::-1]), scores[::-1]))
        tail = self.tail.pareto()
        anchor = tail.survival(scores[-1] - self.tail.threshold)
        if anchor <= 0.0:  # the fitted tail ends at the last measured score: nothing scores above it
            return min(1.0, scores[-1])
        excess = tail.excess_at(false_match_rate / rates[-1] * anchor)
        return min(1.0, self.tail.threshold + excess)

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["quantiles"] = [[rate, score] for rate, score in self.quantiles]
        return record


def _rate_levels() -> list[float]:
    """0.5, 0.2, then four levels a decade from 0.1 down to 1e-9 (only observed ones are kept)."""
    return [0.5, 0.2, *(10 ** (-k / 4) for k in range(4, 37))]


def fit_curve(scores: PairScores, *, population: str, groups: int = 1) -> ImpostorCurve:
    """The curve of the impostor pairs ``scores`` kept (``bad_request`` when they are too few)."""
    # The tail holds the top TAIL_FRACTION of the impostor weight, and at least MIN_TAIL_PAIRS pairs.
    by_weight = int(np.searchsorted(np.cumsum(scores.top_weights), TAIL_FRACTION * scores.total_weight))
    tail_pairs = max(MIN_TAIL_PAIRS, min(by_weight, scores.top.size - 1))
    if scores.count < 4 * tail_pairs or scores.top.size <= tail_pairs:
        raise FRSError(
            "bad_request",
            f"{scores.count} impostor pairs is too few to calibrate (need {4 * tail_pairs}): "
            "use more identities",
        )
    quantiles = [
        (rate, scores.score_at_rate(rate))
        for rate in _rate_levels()
        if rate * scores.effective_pairs >= MIN_PAIRS_PER_QUANTILE
    ]
    # The tail starts at the (tail_pairs + 1)-th highest score; the fit sees the strictly higher ones, each
    # with its weight, and the tail's rate is the weight above its start.
    threshold = float(scores.top[tail_pairs])
    above = scores.top[:tail_pairs] > threshold
    excesses = scores.top[:tail_pairs][above] - threshold
    weights = scores.top_weights[:tail_pairs][above]
    fitted = fit_pareto_tail(excesses, weights, light=True)
    return ImpostorCurve(
        population=population,
        impostor_pairs=scores.count,
        effective_pairs=round(scores.effective_pairs, 1),
        impostor_mean=scores.weighted_mean,
        impostor_std=scores.weighted_std,
        quantiles=tuple(quantiles),
        tail=ImpostorTail(
            threshold=threshold,
            rate=float(weights.sum()) / scores.total_weight,
            pairs=int(above.sum()),
            shape=fitted.shape,
            scale=fitted.scale,
        ),
        groups=groups,
    )


def invalid(reason: str) -> FRSError:
    # A bad calibration is the operator's pack manifest at fault, never the caller's request.
    return FRSError("model_unavailable", f"invalid pack calibration: {reason}")


def number(record: dict[str, Any], key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"{key} must be a finite number")
    return float(value)


def curve_from_dict(record: object, *, population: str | None = None) -> ImpostorCurve:
    """Validate a curve read from JSON (``ImpostorCurve.to_dict``, or a version-1 record, whose curve fields
    sat at the top level: then ``population`` says which it was)."""
    if not isinstance(record, dict):
        raise invalid("a curve must be an object")
    raw_quantiles = record.get("quantiles")
    if not isinstance(raw_quantiles, list) or not raw_quantiles:
        raise invalid("quantiles must be a non-empty list of [rate, score]")
    quantiles: list[tuple[float, float]] = []
    for item in raw_quantiles:
        if not (isinstance(item, list) and len(item) == 2):
            raise invalid("quantiles must be a non-empty list of [rate, score]")
        rate, score = number({"q": item[0]}, "q"), number({"q": item[1]}, "q")
        if not (0.0 < rate < 1.0 and -1.0 <= score <= 1.0):
            raise invalid("quantile rates must be in (0, 1) and scores in [-1, 1]")
        quantiles.append((rate, score))
    if any(b[0] >= a[0] or b[1] < a[1] for a, b in itertools.pairwise(quantiles)):
        raise invalid("quantile rates must decrease and scores must not")
    raw_tail = record.get("tail")
    if not isinstance(raw_tail, dict):
        raise invalid("tail must be an object")
    tail = ImpostorTail(
        threshold=number(raw_tail, "threshold"),
        rate=number(raw_tail, "rate"),
        pairs=int(number(raw_tail, "pairs")),
        shape=number(raw_tail, "shape"),
        scale=number(raw_tail, "scale"),
    )
    if not (0.0 < tail.rate < 1.0 and tail.scale > 0 and tail.pairs > 0 and -1.0 <= tail.threshold <= 1.0):
        raise invalid("tail needs 0 < rate < 1, scale > 0, pairs > 0 and a threshold in [-1, 1]")
    kind = population if population is not None else record.get("population")
    if kind not in POPULATIONS:
        raise invalid(f"population must be one of {', '.join(POPULATIONS)}")
    pairs = int(number(record, "impostor_pairs"))
    if pairs <= 0:
        raise invalid("impostor_pairs must be positive")
    effective = number(record, "effective_pairs") if "effective_pairs" in record else float(pairs)
    return ImpostorCurve(
        population=str(kind),
        impostor_pairs=pairs,
        effective_pairs=effective,
        impostor_mean=number(record, "impostor_mean"),
        impostor_std=number(record, "impostor_std"),
        quantiles=tuple(quantiles),
        tail=tail,
        groups=int(number(record, "groups")) if "groups" in record else 1,
    )
