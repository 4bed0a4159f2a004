"""The per-probe decision: threshold, margin, quality refusal and empty galleries, on hand-made candidates."""

from __future__ import annotations

import pytest

from frs.decision.open_set import AMBIGUOUS, BELOW_THRESHOLD, LOW_QUALITY, MATCH, NO_CANDIDATES, decide
from frs.decision.operating_point import OperatingPoint
from frs.errors import FRSError

POINT = OperatingPoint(threshold=0.5, target=0.01, kind="fpir", gallery_size=30, false_match_rate=3.3e-4)


def test_the_best_identity_at_or_above_the_threshold_is_named() -> None:
    decision = decide([("bob", 0.41), ("ann", 0.62), ("cy", 0.2)], POINT)
    assert (decision.identity, decision.reason) == ("ann", MATCH)
    assert (decision.score, decision.runner_up) == (0.62, 0.41)
    assert decide([("ann", 0.5)], POINT).identity == "ann"  # the threshold itself is accepted


def test_below_the_threshold_nobody_is_named() -> None:
    decision = decide([("ann", 0.49), ("bob", 0.3)], POINT)
    assert (decision.identity, decision.reason) == (None, BELOW_THRESHOLD)
    assert decision.to_dict() == {
        "identity": None,
        "reason": BELOW_THRESHOLD,
        "operating_point": POINT.to_dict(),
    }


def test_a_margin_refuses_a_close_runner_up() -> None:
    candidates = [("ann", 0.60), ("bob", 0.57)]
    assert decide(candidates, POINT).identity == "ann"
    assert decide(candidates, POINT, margin=0.05).reason == AMBIGUOUS
    assert decide(candidates, POINT, margin=0.03 - 1e-9).identity == "ann"
    assert decide([("ann", 0.60)], POINT, margin=0.5).identity == "ann"  # no runner-up to be close


def test_a_low_quality_probe_is_refused_even_when_it_matches() -> None:
    decision = decide([("ann", 0.9)], POINT, quality_issues=["LOW_SHARPNESS"])
    assert (decision.identity, decision.reason) == (None, LOW_QUALITY)
    assert decision.score == 0.9  # the candidates still exist; only the naming is withheld
    assert decision.to_dict()["quality_issues"] == ["LOW_SHARPNESS"]


def test_an_empty_gallery_names_nobody() -> None:
    decision = decide([], POINT)
    assert (decision.identity, decision.reason, decision.score) == (None, NO_CANDIDATES, None)


@pytest.mark.parametrize("margin", [-0.1, 3.0, True, float("nan")])
def test_bad_margins_are_bad_requests(margin: float) -> None:
    with pytest.raises(FRSError) as caught:
        decide([("ann", 0.9)], POINT, margin=margin)
    assert caught.value.code == "bad_request"
