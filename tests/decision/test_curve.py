"""False-match-rate curves: hand-computed rates, the tail beyond the measured points, JSON validation."""

from __future__ import annotations

import dataclasses
import math

import pytest

from frs.decision.curve import ImpostorTail, curve_from_dict
from frs.errors import FRSError
from tests.decision.hand import HAND_CURVE


def test_false_match_rate_by_hand() -> None:
    curve = HAND_CURVE
    assert curve.false_match_rate(0.2) == pytest.approx(0.1)
    # Log-linear between (0.2, 0.1) and (0.3, 0.01): the geometric mean halfway.
    assert curve.false_match_rate(0.25) == pytest.approx(math.sqrt(0.1 * 0.01))
    # Tail: 0.01 * exp(-(0.35 - 0.3) / 0.05) = 0.01 / e.
    assert curve.false_match_rate(0.35) == pytest.approx(0.01 / math.e)
    # Every score is >= -1.
    assert curve.false_match_rate(-1.0) == pytest.approx(1.0)
    assert curve.measured_down_to == 0.01


def test_threshold_at_inverts_the_rate() -> None:
    curve = HAND_CURVE
    # 1e-3 = 0.01 * exp(-x / 0.05)  =>  x = 0.05 ln 10.
    assert curve.threshold_at(1e-3) == pytest.approx(0.3 + 0.05 * math.log(10))
    assert curve.threshold_at(0.1) == pytest.approx(0.2)
    for rate in (0.3, 0.05, 0.02, 1e-4, 1e-7):
        assert curve.false_match_rate(curve.threshold_at(rate)) == pytest.approx(rate, rel=1e-6)


def test_beyond_the_last_measured_quantile_the_tail_is_scaled_to_pass_through_it() -> None:
    # The tail was fitted from 0.2 (rate 0.1), but pairs were measured up to 0.3 (rate 0.01): from there on
    # the tail's shape continues from the measured point, 0.01 * exp(-(t - 0.3) / 0.05).
    curve = dataclasses.replace(
        HAND_CURVE, tail=ImpostorTail(threshold=0.2, rate=0.1, pairs=5, shape=0.0, scale=0.05)
    )
    assert curve.measured_down_to == 0.01
    assert curve.false_match_rate(0.25) == pytest.approx(math.sqrt(0.1 * 0.01))  # measured: interpolated
    assert curve.false_match_rate(0.4) == pytest.approx(0.01 * math.exp(-0.1 / 0.05))
    assert curve.threshold_at(1e-3) == pytest.approx(0.3 + 0.05 * math.log(10))


def test_a_tail_that_starts_past_the_quantiles_is_a_measured_point_too() -> None:
    # Quantiles down to 0.1 (score 0.2) and the tail measured from 0.3 (rate 0.01): both are measured.
    curve = dataclasses.replace(HAND_CURVE, quantiles=((0.5, 0.0), (0.1, 0.2)))
    assert curve.measured_down_to == 0.01
    assert curve.false_match_rate(0.25) == pytest.approx(math.sqrt(0.1 * 0.01))
    assert curve.false_match_rate(0.35) == pytest.approx(0.01 / math.e)


def test_a_bounded_tail_never_asks_for_more_than_a_perfect_score() -> None:
    curve = dataclasses.replace(
        HAND_CURVE, tail=ImpostorTail(threshold=0.3, rate=0.01, pairs=5, shape=-0.5, scale=0.05)
    )
    # End point 0.3 + 0.05 / 0.5 = 0.4: nothing scores above it.
    assert curve.false_match_rate(0.41) == 0.0
    assert curve.threshold_at(1e-12) <= 0.4 + 1e-9


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, float("nan"), float("inf")])
def test_threshold_at_rejects_rates_outside_zero_one(rate: float) -> None:
    with pytest.raises(FRSError) as caught:
        HAND_CURVE.threshold_at(rate)
    assert caught.value.code == "bad_request"


def test_json_round_trip() -> None:
    assert curve_from_dict(HAND_CURVE.to_dict()) == HAND_CURVE


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"quantiles": []}, "quantiles"),
        ({"quantiles": [[0.1, 0.2], [0.2, 0.3]]}, "decrease"),
        ({"quantiles": [[1.5, 0.2]]}, "rates must be in"),
        ({"tail": {"threshold": 0.3, "rate": 0.01, "pairs": 5, "shape": 0.0, "scale": -1.0}}, "scale > 0"),
        ({"tail": "no"}, "tail must be"),
        ({"impostor_mean": "x"}, "impostor_mean"),
        ({"impostor_pairs": 0}, "positive"),
        ({"population": "friends"}, "population"),
    ],
)
def test_invalid_curves_name_the_problem(change: dict[str, object], needle: str) -> None:
    with pytest.raises(FRSError) as caught:
        curve_from_dict({**HAND_CURVE.to_dict(), **change})
    assert caught.value.code == "model_unavailable"
    assert needle in caught.value.message
