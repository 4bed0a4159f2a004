"""The open-set decision for one probe face: name the best identity, or nobody and why.

Rule, in order: a probe whose quality fails the filter is answered ``low_quality`` (its candidates are still
listed by the caller); an empty gallery names nobody (``no_candidates``); the best identity is named when its
score reaches the operating point's threshold (``match``), else nobody (``below_threshold``). An optional
``margin`` also requires the best to beat the runner-up by that much (``ambiguous`` otherwise); the research
note measured it and the default is off (0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from frs.decision.operating_point import OperatingPoint
from frs.errors import FRSError

MATCH = "match"
BELOW_THRESHOLD = "below_threshold"
AMBIGUOUS = "ambiguous"
LOW_QUALITY = "low_quality"
NO_CANDIDATES = "no_candidates"


@dataclass(frozen=True)
class Decision:
    identity: str | None
    reason: str
    score: float | None  # the best identity's score (None without candidates)
    runner_up: float | None  # the second-best identity's score, when there is one
    operating_point: OperatingPoint
    quality_issues: tuple[str, ...] = ()  # the codes that failed the filter, for low_quality

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "identity": self.identity,
            "reason": self.reason,
            "operating_point": self.operating_point.to_dict(),
        }
        if self.quality_issues:
            body["quality_issues"] = list(self.quality_issues)
        return body


def decide(
    candidates: Sequence[tuple[str, float]],
    point: OperatingPoint,
    *,
    margin: float = 0.0,
    quality_issues: Sequence[str] = (),
) -> Decision:
    """Decide for one probe from its ``(identity, score)`` candidates (one per identity, any order) at
    ``point``; ``quality_issues`` are the probe's codes failing the quality filter (empty: it passed)."""
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0.0 <= margin <= 2.0:
        raise FRSError("bad_request", f"margin must be a number from 0 to 2, got {margin!r}")
    ranked = sorted(candidates, key=lambda item: -item[1])
    if any(not math.isfinite(score) for _, score in ranked):
        raise ValueError("candidate scores must be finite")
    best = ranked[0][1] if ranked else None
    runner_up = ranked[1][1] if len(ranked) > 1 else None
    issues = tuple(quality_issues)

    def answer(identity: str | None, reason: str) -> Decision:
        return Decision(identity, reason, best, runner_up, point, issues)

    if issues:
        return answer(None, LOW_QUALITY)
    if best is None:
        return answer(None, NO_CANDIDATES)
    if best < point.threshold:
        return answer(None, BELOW_THRESHOLD)
    if runner_up is not None and best - runner_up < margin:
        return answer(None, AMBIGUOUS)
    return answer(ranked[0][0], MATCH)
