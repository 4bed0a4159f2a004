"""Which operating point a request gets: the precedence of threshold, setting, target and pack default, and
how answers state it (on the hand-made calibration of tests/decision/hand.py)."""

from __future__ import annotations

import math

import pytest

from frs.decision.policy import (
    check_threshold,
    identify_point,
    identify_point_dict,
    verify_point,
    verify_point_dict,
)
from frs.errors import FRSError
from tests.decision.hand import HAND_CALIBRATION


def _identify(**overrides: object) -> dict[str, object]:
    options: dict[str, object] = {
        "threshold": None,
        "configured": None,
        "target_fpir": 0.01,
        "gallery_faces": 2,
        "calibration": HAND_CALIBRATION,
        "pack_threshold": 0.363,
    }
    options.update(overrides)
    point = identify_point(**options)  # type: ignore[arg-type]
    return {
        "threshold": point.threshold,
        **identify_point_dict(point, int(str(options["gallery_faces"])), "none"),
    }


def test_the_target_gives_the_threshold_for_the_face_count() -> None:
    answer = _identify()
    fmr = 1 - 0.99**0.5  # two faces
    assert answer["threshold"] == pytest.approx(0.3 + 0.05 * math.log(0.01 / fmr))
    assert answer["basis"] == "target_fpir" and answer["source"] == "calibrated"
    assert answer["false_match_rate"] == pytest.approx(fmr, rel=1e-3)
    assert answer["expected_fpir"] == pytest.approx(0.01, rel=1e-3)


def test_precedence_request_then_setting_then_target_then_pack() -> None:
    assert _identify(threshold=0.7, configured=0.5)["source"] == "explicit"
    assert _identify(threshold=0.7, configured=0.5)["threshold"] == 0.7
    assert _identify(configured=0.5)["source"] == "configured"
    without = _identify(calibration=None)
    assert (without["threshold"], without["source"], without["false_match_rate"]) == (
        0.363,
        "pack_default",
        None,
    )
    assert (
        without["basis"] == "threshold"
        and without["target_fpir"] is None
        and without["expected_fpir"] is None
    )


def test_an_empty_gallery_reports_zero_faces_and_names_nobody() -> None:
    answer = _identify(gallery_faces=0)
    assert answer["threshold"] == pytest.approx(0.3)  # computed for one face
    assert answer["gallery_size"] == 0 and answer["expected_fpir"] == 0.0


def test_verify_point() -> None:
    point = verify_point(
        threshold=None, configured=None, target_far=1e-3, calibration=HAND_CALIBRATION, pack_threshold=0.363
    )
    assert point.threshold == pytest.approx(0.3 + 0.05 * math.log(10))
    assert verify_point_dict(point) == {
        "basis": "target_far",
        "source": "calibrated",
        "target_far": 0.001,
        "false_match_rate": 0.001,
    }


@pytest.mark.parametrize("bad", [1.5, -1.01, True, "0.5", float("nan")])
def test_a_bad_threshold_is_a_bad_request(bad: object) -> None:
    with pytest.raises(FRSError) as caught:
        check_threshold(bad)
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, float("inf")])
def test_a_bad_target_is_a_bad_request(bad: float) -> None:
    with pytest.raises(FRSError) as caught:
        _identify(target_fpir=bad)
    assert caught.value.code == "bad_request" and "target_fpir" in caught.value.message
