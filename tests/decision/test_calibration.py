"""Calibration records: the curve of every pair of people against brute force, JSON round trip, versions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from frs.decision.calibration import (
    calibrate_pack,
    calibration_from_dict,
    compute_calibration,
    load_pack_calibration,
)
from frs.decision.curve import EACH_IDENTITY, EVERY_PAIR, LOOK_ALIKE
from frs.decision.groups import look_alike_groups
from frs.errors import FRSError
from tests.decision.hand import HAND_CALIBRATION

Faces = tuple[np.ndarray, np.ndarray]


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


def _brute_force(faces: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(impostor scores, their weights when each identity weighs one and no probe cap, genuine scores)."""
    scores = faces @ faces.T
    upper = np.triu(np.ones_like(scores, dtype=bool), k=1)
    same = labels[:, None] == labels[None, :]
    photos = np.bincount(labels)[labels].astype(float)
    weights = 1.0 / photos[None, :] + 1.0 / photos[:, None]
    return scores[upper & ~same], weights[upper & ~same], scores[upper & same]


def test_computed_record_matches_brute_force(random_faces: tuple[np.ndarray, np.ndarray]) -> None:
    faces, labels = random_faces
    impostor, weights, genuine = _brute_force(faces, labels)
    record = compute_calibration(
        faces, [f"p{label}" for label in labels], pack="p", dataset="synthetic", probe_cap=None
    )
    curve = record.impostors
    assert record.faces == 1500
    assert record.identities == len(np.unique(labels))
    assert curve.population == EACH_IDENTITY
    assert curve.impostor_pairs == impostor.size
    assert curve.impostor_mean == pytest.approx(np.average(impostor, weights=weights), abs=1e-6)
    assert record.genuine is not None
    assert record.genuine.pairs == genuine.size
    assert record.genuine.quantiles["0.5"] == pytest.approx(np.median(genuine), abs=1e-6)

    def observed(threshold: float) -> float:
        return float(weights[impostor >= threshold].sum() / weights.sum())

    # Empirical part: the rate at each stored quantile is what the weighted pairs say.
    for rate, score in curve.quantiles:
        assert observed(score - 1e-6) == pytest.approx(rate, rel=0.05, abs=2 / impostor.size)
    # The tail starts at the top 0.1% of the weight and predicts the observed rate where pairs still exist.
    assert curve.tail.rate == pytest.approx(1e-3, rel=0.02)
    for threshold in np.quantile(impostor, [0.9995, 0.9999]):
        assert curve.false_match_rate(float(threshold)) == pytest.approx(observed(threshold), rel=0.35)
    # The smallest rate measured is backed by at least 10 pairs of people: 600 people make 179,700 pairs.
    assert curve.measured_down_to * curve.effective_pairs >= 10
    assert curve.effective_pairs <= 600 * 599 / 2


def test_the_probe_cap_changes_the_weights_only_of_people_with_more_photos(
    random_faces: tuple[np.ndarray, np.ndarray],
) -> None:
    faces, labels = random_faces
    capped = compute_calibration(faces, labels.tolist(), pack="p", dataset="d", probe_cap=1)
    free = compute_calibration(faces, labels.tolist(), pack="p", dataset="d", probe_cap=None)
    assert capped.probe_cap == 1 and free.probe_cap is None
    assert capped.impostors.impostor_pairs == free.impostors.impostor_pairs
    assert capped.impostors.impostor_mean != free.impostors.impostor_mean
    with pytest.raises(FRSError):
        compute_calibration(faces, labels.tolist(), pack="p", dataset="d", probe_cap=0)


def test_json_round_trip_keeps_every_rate(random_faces: tuple[np.ndarray, np.ndarray]) -> None:
    faces, labels = random_faces
    record = compute_calibration(faces, labels.tolist(), pack="p", dataset="synthetic")
    again = calibration_from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record
    for rate in (0.1, 1e-3, 1e-7):
        assert again.impostors.threshold_at(rate) == record.impostors.threshold_at(rate)


def test_a_version_1_record_loads_as_the_curve_it_was() -> None:
    curve = HAND_CALIBRATION.impostors.to_dict()
    old = {
        "version": 1,
        "pack": "p",
        "dataset": "d",
        "identities": 10,
        "faces": 10,
        "groups": 31,
        **{
            key: curve[key]
            for key in ("impostor_pairs", "impostor_mean", "impostor_std", "quantiles", "tail")
        },
        "genuine": None,
    }
    loaded = calibration_from_dict(old)
    assert loaded.version == 1 and loaded.probe_cap is None
    assert loaded.impostors.population == LOOK_ALIKE and loaded.impostors.groups == 31
    assert loaded.impostors.quantiles == HAND_CALIBRATION.impostors.quantiles
    assert calibration_from_dict({**old, "groups": 1}).impostors.population == EVERY_PAIR


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"version": 99}, "version"),
        ({"faces": 0}, "positive"),
        ({"impostors": "no"}, "curve must be an object"),
        ({"probe_cap": "ten"}, "probe_cap"),
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
    assert record.impostors.impostor_pairs == int((upper & same_group & different_person).sum())
    assert record.impostors.groups == 6 and record.impostors.population == LOOK_ALIKE
    # Look-alikes score higher: the same false-match rate needs a higher threshold than over all pairs.
    everyone = compute_calibration(faces, labels.tolist(), pack="p", dataset="d")
    assert everyone.impostors.groups == 1
    assert record.impostors.threshold_at(1e-3) > everyone.impostors.threshold_at(1e-3)


def test_calibrate_pack_takes_every_pair_unless_asked_for_groups(random_faces: Faces) -> None:
    faces, labels = random_faces
    assert calibrate_pack(faces, labels.tolist(), pack="p", dataset="d").impostors.groups == 1
    grouped = calibrate_pack(faces, labels.tolist(), pack="p", dataset="d", group_size=250)
    assert grouped.impostors.groups == 6  # 1,500 faces / 250
    with pytest.raises(FRSError):
        calibrate_pack(faces, labels.tolist(), pack="p", dataset="d", group_size=1)
