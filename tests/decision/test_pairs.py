"""Pair streaming: weights that make each identity weigh one, and what the pairs are worth."""

from __future__ import annotations

import numpy as np
import pytest

from frs.decision.pairs import PairWeights, effective_identity_pairs, score_pairs


def _faces(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    # 5 people with 1, 1, 2, 3 and 6 photos in 8-d.
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(5), [1, 1, 2, 3, 6])
    centres = rng.normal(size=(5, 8))
    vectors = centres[codes] + 0.8 * rng.normal(size=(codes.size, 8))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), codes


def test_each_identity_weighs_one_in_the_false_match_rate() -> None:
    vectors, codes = _faces()
    weights = PairWeights.each_identity_weighs_one(codes, probe_cap=None)
    scores = score_pairs(vectors, codes, weights)
    # By hand: a random stranger photo (each photo once) against one random photo of each other person.
    threshold = float(np.median(scores.top))
    people = np.unique(codes)
    rates = []
    for p in range(codes.size):
        others = [q for q in people if q != codes[p]]
        share = [np.mean(vectors[codes == q] @ vectors[p] >= threshold) for q in others]
        rates.append(np.mean(share))
    observed = scores.top_weights[scores.top >= threshold].sum() / scores.total_weight
    assert observed == pytest.approx(np.mean(rates), rel=1e-9)


def test_the_probe_cap_stops_one_person_outvoting_the_rest() -> None:
    _, codes = _faces()
    capped = PairWeights.each_identity_weighs_one(codes, probe_cap=2)
    assert capped.probe[codes == 4].sum() == pytest.approx(2.0)  # six photos count as two strangers
    assert capped.probe[codes == 0].sum() == pytest.approx(1.0)
    assert capped.gallery[codes == 4].sum() == pytest.approx(1.0)


def test_every_pair_counts_each_pair_of_faces_once_and_groups_restrict_them() -> None:
    vectors, codes = _faces()
    everyone = score_pairs(vectors, codes, PairWeights.every_pair(codes.size))
    same = codes[:, None] == codes[None, :]
    upper = np.triu(np.ones_like(same), k=1)
    assert everyone.count == int((upper & ~same).sum())
    assert everyone.total_weight == pytest.approx(everyone.count)
    groups = (np.arange(codes.size) % 2).tolist()
    grouped = score_pairs(vectors, codes, PairWeights.every_pair(codes.size, groups))
    same_group = np.equal.outer(groups, groups)
    assert grouped.count == int((upper & ~same & same_group).sum())
    assert grouped.genuine.size == int((upper & same).sum())


def test_pairs_are_worth_the_pairs_of_people_behind_them() -> None:
    _, codes = _faces()
    # Equal weight per pair of people: worth exactly the 10 pairs of 5 people, however many photos each has.
    photos = np.bincount(codes)[codes]
    even = PairWeights(1.0 / photos, 1.0 / photos, np.zeros(codes.size, np.int64))
    assert effective_identity_pairs(codes, even) == pytest.approx(10.0)
    # Weighing by photos concentrates the weight on the pairs of the people with many photos: worth less.
    by_face = PairWeights.every_pair(codes.size)
    assert effective_identity_pairs(codes, by_face) < 10.0


def test_score_at_rate_reads_the_kept_top_then_the_histogram() -> None:
    vectors, codes = _faces()
    scores = score_pairs(vectors, codes, PairWeights.every_pair(codes.size))
    ordered = np.sort(scores.top)[::-1]
    assert scores.score_at_rate(1 / scores.count) == pytest.approx(ordered[0])
    assert scores.score_at_rate(3 / scores.count) == pytest.approx(ordered[2])
