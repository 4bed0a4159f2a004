"""Operating points: the gallery-size adjustment by hand, monotonicity, and validation errors."""

from __future__ import annotations

import math

import pytest

from frs.decision.operating_point import (
    expected_fpir,
    fixed_operating_point,
    per_comparison_rate,
    threshold_for,
    threshold_for_far,
)
from frs.errors import FRSError
from tests.decision.hand import HAND_CALIBRATION

# FMR(t) = 0.01 exp(-(t - 0.3) / 0.05) for t >= 0.3 (see tests/decision/hand.py).
CALIBRATION = HAND_CALIBRATION


def _tail_threshold(fmr: float) -> float:
    return 0.3 + 0.05 * math.log(0.01 / fmr)


def test_per_comparison_rate_by_hand() -> None:
    assert per_comparison_rate(0.01, 1) == pytest.approx(0.01)
    # 1 - 0.99 ** (1/30)
    assert per_comparison_rate(0.01, 30) == pytest.approx(3.34954e-4, rel=1e-5)
    # For a million identities the rate is ~ target / N: 1.00503e-8.
    assert per_comparison_rate(0.01, 10**6) == pytest.approx(1.005034e-8, rel=1e-6)


def test_threshold_rises_with_the_gallery() -> None:
    one = threshold_for(0.01, 1, CALIBRATION)
    thirty = threshold_for(0.01, 30, CALIBRATION)
    million = threshold_for(0.01, 10**6, CALIBRATION)
    assert one.threshold == pytest.approx(0.3)  # FMR 1% is exactly the tail threshold
    assert thirty.threshold == pytest.approx(_tail_threshold(3.34954e-4), rel=1e-5)  # 0.46978
    assert million.threshold == pytest.approx(_tail_threshold(1.005034e-8), rel=1e-5)  # 0.99
    assert one.threshold < thirty.threshold < million.threshold
    body = thirty.to_dict()
    assert body == {
        "threshold": round(thirty.threshold, 4),
        "source": "calibrated",
        "target_fpir": 0.01,
        "gallery_size": 30,
        "false_match_rate": thirty.false_match_rate,
        "expected_fpir": pytest.approx(0.01),
        # The hand curve measured rates down to 1%: only a gallery of one face is measured at 1% FPIR.
        "extrapolated": True,
        "measured_gallery_size": 1,
    }
    assert not one.extrapolated and one.measured_gallery_size == 1


def test_the_model_fpir_at_the_chosen_threshold_is_the_target() -> None:
    for size in (1, 30, 10**6):
        point = threshold_for(0.01, size, CALIBRATION)
        assert expected_fpir(point.threshold, size, CALIBRATION) == pytest.approx(0.01, rel=1e-6)


def test_the_measured_gallery_size_is_where_the_per_comparison_rate_leaves_the_measured_curve() -> None:
    # Measured down to FMR 1e-2: at target 50% the gallery may hold N with 1 - 0.99 ** N <= 0.5, i.e. 68.
    point = threshold_for(0.5, 10, CALIBRATION)
    assert point.measured_gallery_size == 68
    assert not point.extrapolated
    assert threshold_for(0.5, 69, CALIBRATION).extrapolated
    assert threshold_for_far(1e-3, CALIBRATION).measured_gallery_size == 1


def test_stricter_targets_give_higher_thresholds() -> None:
    thresholds = [threshold_for(target, 50, CALIBRATION).threshold for target in (0.1, 0.01, 1e-3, 1e-4)]
    assert thresholds == sorted(thresholds)
    assert len(set(thresholds)) == 4


def test_verify_uses_one_comparison() -> None:
    point = threshold_for_far(1e-3, CALIBRATION)
    assert point.threshold == pytest.approx(_tail_threshold(1e-3))
    assert point.gallery_size == 1
    assert point.to_dict()["target_far"] == 1e-3


@pytest.mark.parametrize("target", [0.0, 1.0, -0.01, 1.5, float("nan"), True, "0.01"])
def test_bad_targets_are_bad_requests(target: object) -> None:
    with pytest.raises(FRSError) as caught:
        threshold_for(target, 10, CALIBRATION)  # type: ignore[arg-type]
    assert caught.value.code == "bad_request"
    with pytest.raises(FRSError) as caught:
        threshold_for_far(target, CALIBRATION)  # type: ignore[arg-type]
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_bad_gallery_sizes_are_bad_requests(size: object) -> None:
    with pytest.raises(FRSError) as caught:
        threshold_for(0.01, size, CALIBRATION)  # type: ignore[arg-type]
    assert caught.value.code == "bad_request"
    assert "gallery_size" in caught.value.message


def test_a_fixed_threshold_still_reports_what_it_means() -> None:
    # 0.35 is in the tail: FMR = 0.01 / e; with 30 faces FPIR = 1 - (1 - 0.01/e) ** 30.
    point = fixed_operating_point(0.35, gallery_size=30, calibration=CALIBRATION)
    assert point.false_match_rate == pytest.approx(0.01 / math.e)
    assert point.to_dict() == {
        "threshold": 0.35,
        "source": "explicit",
        "gallery_size": 30,
        "false_match_rate": pytest.approx(0.01 / math.e),
        "expected_fpir": pytest.approx(1 - (1 - 0.01 / math.e) ** 30),
        "extrapolated": True,  # 0.01 / e is below every rate the hand curve measured
    }
    assert not fixed_operating_point(0.3, calibration=CALIBRATION).extrapolated
    # A pack without a calibration: only the threshold and where it came from.
    fallback = fixed_operating_point(0.363, gallery_size=5, source="pack_default")
    assert fallback.to_dict() == {"threshold": 0.363, "source": "pack_default", "gallery_size": 5}
    verify = fixed_operating_point(0.5, kind="far", calibration=CALIBRATION)
    assert "expected_fpir" not in verify.to_dict()


@pytest.mark.parametrize("threshold", [1.5, -2.0, float("nan"), True, "0.4"])
def test_bad_fixed_thresholds_are_bad_requests(threshold: object) -> None:
    with pytest.raises(FRSError) as caught:
        fixed_operating_point(threshold)  # type: ignore[arg-type]
    assert caught.value.code == "bad_request"
