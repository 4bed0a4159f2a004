"""Calibration records: hand-computed false-match rates, streamed pair counts, JSON round trip, validation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from frs.decision.calibration import (
    Calibration,
    ImpostorTail,
    calibrate_pack,
    calibration_from_dict,
    compute_calibration,
    load_pack_calibration,
)
from frs.decision.groups import look_alike_groups
from frs.errors import FRSError
from tests.decision.hand import HAND_CALIBRATION

Faces = tuple[np.ndarray, np.ndarray]


def test_false_match_rate_by_hand() -> None:
    calibration = HAND_CALIBRATION
    assert calibration.false_match_rate(0.2) == pytest.approx(0.1)
    # Log-linear between (0.2, 0.1) and (0.3, 0.01): the geometric mean halfway.
    assert calibration.false_match_rate(0.25) == pytest.approx(math.sqrt(0.1 * 0.01))
    # Tail: 0.01 * exp(-(0.35 - 0.3) / 0.05) = 0.01 / e.
    assert calibration.false_match_rate(0.35) == pytest.approx(0.01 / math.e)
    # Every score is >= -1.
    assert calibration.false_match_rate(-1.0) == pytest.approx(1.0)


def test_threshold_at_inverts_the_rate() -> None:
    calibration = HAND_CALIBRATION
    # 1e-3 = 0.01 * exp(-x / 0.05)  =>  x = 0.05 ln 10.
    assert calibration.threshold_at(1e-3) == pytest.approx(0.3 + 0.05 * math.log(10))
    assert calibration.threshold_at(0.1) == pytest.approx(0.2)
    for rate in (0.3, 0.05, 0.02, 1e-4, 1e-7):
        assert calibration.false_match_rate(calibration.threshold_at(rate)) == pytest.approx(rate, rel=1e-6)


def test_a_bounded_tail_never_asks_for_more_than_a_perfect_score() -> None:
    bounded = ImpostorTail(threshold=0.3, rate=0.01, pairs=5, shape=-0.5, scale=0.05)
    calibration = Calibration(**{**HAND_CALIBRATION.__dict__, "tail": bounded})
    # End point 0.3 + 0.05 / 0.5 = 0.4: nothing scores above it.
    assert calibration.false_match_rate(0.41) == 0.0
    assert calibration.threshold_at(1e-12) <= 0.4 + 1e-9


@pytest.mark.parametrize("rate", [0.0, 1.0, -0.1, float("nan"), float("inf")])
def test_threshold_at_rejects_rates_outside_zero_one(rate: float) -> None:
    with pytest.raises(FRSError) as caught:
        HAND_CALIBRATION.threshold_at(rate)
    assert caught.value.code == "bad_request"


def _circle_faces() -> tuple[np.ndarray, list[str]]:
    # 3 people, 2 faces each, on the unit circle at known angles (degrees).
    angles = {"a": (0.0, 10.0), "b": (90.0, 100.0), "c": (200.0, 215.0)}
    vectors, labels = [], []
    for person, pair in angles.items():
        for angle in pair:
            vectors.append([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
            labels.append(person)
    return np.array(vectors), labels


def test_too_few_pairs_is_a_bad_request_naming_the_need() -> None:
    vectors, labels = _circle_faces()
    with pytest.raises(FRSError) as caught:
        compute_calibration(vectors, labels, pack="p", dataset="d")
    # 6 faces: 15 pairs, 3 of them genuine, so 12 impostor pairs.
    assert caught.value.code == "bad_request"
    assert "12 impostor pairs" in caught.value.message


@pytest.mark.parametrize(
    ("vectors", "labels", "needle"),
    [
        (np.zeros((3, 4)), ["a", "b", "c"], "all zeros"),
        (np.ones((3, 4)), ["a", "a", "a"], "two identities"),
        (np.ones((3, 4)), ["a", "b"], "one label per face"),
        (np.full((2, 4), np.nan), ["a", "b"], "NaN"),
    ],
)
def test_bad_embeddings_are_bad_requests(vectors: np.ndarray, labels: list[str], needle: str) -> None:
    with pytest.raises(FRSError) as caught:
        compute_calibration(vectors, labels, pack="p", dataset="d")
    assert caught.value.code == "bad_request"
    assert needle in caught.value.message


@pytest.fixture(scope="module")
def random_faces() -> tuple[np.ndarray, np.ndarray]:
    # 1,500 faces of 600 people in 16-d (more than one 1,024-row block, so the streaming is exercised).
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(600, 16))
    labels = np.sort(rng.integers(0, 600, size=1500))
    faces = centres[labels] + 0.6 * rng.normal(size=(1500, 16))
    return faces / np.linalg.norm(faces, axis=1, keepdims=True), labels


def _brute_force(faces: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = faces @ faces.T
    upper = np.triu(np.ones_like(scores, dtype=bool), k=1)
    same = labels[:, None] == labels[None, :]
    return scores[upper & ~same], scores[upper & same]


def test_computed_record_matches_brute_force(random_faces: tuple[np.ndarray, np.ndarray]) -> None:
    faces, labels = random_faces
    impostor, genuine = _brute_force(faces, labels)
    record = compute_calibration(faces, [f"p{label}" for label in labels], pack="p", dataset="synthetic")
    assert record.faces == 1500
    assert record.identities == len(np.unique(labels))
    assert record.impostor_pairs == impostor.size
    assert record.impostor_mean == pytest.approx(impostor.mean(), abs=1e-6)
    assert record.impostor_std == pytest.approx(impostor.std(), rel=1e-4)
    assert record.genuine is not None
    assert record.genuine.pairs == genuine.size
    assert record.genuine.quantiles["0.5"] == pytest.approx(np.median(genuine), abs=1e-6)
    # Empirical part: the rate at each stored quantile is what the pairs say.
    for rate, score in record.quantiles:
        assert (impostor >= score - 1e-6).mean() == pytest.approx(rate, rel=0.05, abs=2 / impostor.size)
    # The tail covers the top 0.1% of pairs, and predicts the observed rate where pairs still exist.
    assert record.tail.rate == pytest.approx(1e-3, rel=0.01)
    for threshold in np.quantile(impostor, [0.9995, 0.9999]):
        observed = (impostor >= threshold).mean()
        assert record.false_match_rate(float(threshold)) == pytest.approx(observed, rel=0.35)


def test_json_round_trip_keeps_every_rate(random_faces: tuple[np.ndarray, np.ndarray]) -> None:
    faces, labels = random_faces
    record = compute_calibration(faces, labels.tolist(), pack="p", dataset="synthetic")
    again = calibration_from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record
    for rate in (0.1, 1e-3, 1e-7):
        assert again.threshold_at(rate) == record.threshold_at(rate)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"version": 99}, "version"),
        ({"quantiles": []}, "quantiles"),
        ({"quantiles": [[0.1, 0.2], [0.2, 0.3]]}, "decrease"),
        ({"quantiles": [[1.5, 0.2]]}, "rates must be in"),
        ({"tail": {"threshold": 0.3, "rate": 0.01, "pairs": 5, "shape": 0.0, "scale": -1.0}}, "scale > 0"),
        ({"tail": "no"}, "tail must be"),
        ({"impostor_mean": "x"}, "impostor_mean"),
        ({"faces": 0}, "positive"),
    ],
)
def test_invalid_records_name_the_problem(change: dict[str, object], needle: str) -> None:
    record = {**HAND_CALIBRATION.to_dict(), **change}
    with pytest.raises(FRSError) as caught:
        calibration_from_dict(record)
    assert caught.value.code == "model_unavailable"
    assert needle in caught.value.message


def test_a_record_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(FRSError, match="not an object"):
        calibration_from_dict([1, 2])


def test_pack_manifest_calibration_is_loaded_or_absent(tmp_path) -> None:
    with_record = tmp_path / "with.json"
    with_record.write_text(json.dumps({"name": "x", "calibration": HAND_CALIBRATION.to_dict()}))
    without = tmp_path / "without.json"
    without.write_text(json.dumps({"name": "x"}))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert load_pack_calibration(with_record) == HAND_CALIBRATION
    assert load_pack_calibration(without) is None
    with pytest.raises(FRSError) as caught:
        load_pack_calibration(broken)
    assert caught.value.code == "model_unavailable"


def test_look_alike_groups_keep_only_pairs_inside_a_group(random_faces: Faces) -> None:
    faces, labels = random_faces
    groups = look_alike_groups(faces, 6)
    assert sorted(set(groups.tolist())) == list(range(6))
    assert np.array_equal(groups, look_alike_groups(faces, 6))  # deterministic
    record = compute_calibration(faces, labels.tolist(), pack="p", dataset="d", groups=groups.tolist())
    same_group = groups[:, None] == groups[None, :]
    different_person = labels[:, None] != labels[None, :]
    upper = np.triu(np.ones_like(same_group), k=1)
    assert record.impostor_pairs == int((upper & same_group & different_person).sum())
    assert record.groups == 6
    # Look-alikes score higher: the same false-match rate needs a higher threshold than over all pairs.
    everyone = compute_calibration(faces, labels.tolist(), pack="p", dataset="d")
    assert everyone.groups == 1
    assert record.threshold_at(1e-3) > everyone.threshold_at(1e-3)


def test_calibrate_pack_uses_groups_of_about_the_asked_size(random_faces: Faces) -> None:
    faces, labels = random_faces
    record = calibrate_pack(faces, labels.tolist(), pack="p", dataset="d", group_size=250)
    assert record.groups == 6  # 1,500 faces / 250
    assert calibrate_pack(faces, labels.tolist(), pack="p", dataset="d", group_size=None).groups == 1
    with pytest.raises(FRSError):
        calibrate_pack(faces, labels.tolist(), pack="p", dataset="d", group_size=1)
