"""LFW-style folds: pair lists disjoint by person; accuracy at the threshold chosen on the other folds."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from frs.errors import FRSError
from frs.evaluation.folds import kfold_accuracy, make_fold_pairs


def _photos(counts: dict[str, int]) -> dict[str, list[str]]:
    return {name: [f"{name}/{name}_{i:04d}.jpg" for i in range(n)] for name, n in counts.items()}


PEOPLE = _photos({f"p{i:02d}": (i % 5) + 1 for i in range(40)} | {"many": 30})


def _person(photo: str) -> str:
    return photo.split("/", maxsplit=1)[0]


def test_folds_are_disjoint_by_person_and_pairs_are_what_they_say() -> None:
    pairs = make_fold_pairs(PEOPLE, folds=4, pairs_per_fold=6, seed=1)
    folds_of: dict[str, set[int]] = {}
    for pair in pairs:
        for photo in (pair.a, pair.b):
            folds_of.setdefault(_person(photo), set()).add(pair.fold)
        assert pair.a != pair.b
        assert (_person(pair.a) == _person(pair.b)) is pair.same
    assert all(len(folds) == 1 for folds in folds_of.values())
    assert Counter((p.fold, p.same) for p in pairs) == {(f, s): 6 for f in range(4) for s in (True, False)}
    assert len({(p.a, p.b) for p in pairs}) == len(pairs)  # no pair twice


def test_the_same_seed_gives_the_same_list() -> None:
    first = make_fold_pairs(PEOPLE, folds=4, pairs_per_fold=6, seed=3)
    assert make_fold_pairs(PEOPLE, folds=4, pairs_per_fold=6, seed=3) == first
    assert make_fold_pairs(PEOPLE, folds=4, pairs_per_fold=6, seed=4) != first


def test_genuine_pairs_go_round_robin_over_people() -> None:
    # One fold-mate has 30 photos (435 pairs), three have 2 (one pair each): each gives one pair per round,
    # so 5 pairs are the three singles' pairs and two of the big one's, not five of the big one's.
    photos = _photos({"big": 30, "a": 2, "b": 2, "c": 2, "d": 2, "e": 2, "f": 2, "g": 2})
    pairs = make_fold_pairs(photos, folds=2, pairs_per_fold=5, seed=0)
    fold = next(p.fold for p in pairs if _person(p.a) == "big")
    genuine = Counter(_person(p.a) for p in pairs if p.same and p.fold == fold)
    assert genuine["big"] == 5 - (len(genuine) - 1)
    assert genuine["big"] <= 2


def test_a_fold_short_of_pairs_takes_what_there_is() -> None:
    pairs = make_fold_pairs(_photos({"a": 2, "b": 2, "c": 1}), folds=2, pairs_per_fold=5, seed=0)
    assert sum(p.same for p in pairs) == 2  # one pair per person with two photos


def test_too_few_people_is_a_clear_error() -> None:
    with pytest.raises(FRSError, match="10 folds need 10 people with two or more photos, have 2"):
        make_fold_pairs(_photos({"a": 2, "b": 3}))
    with pytest.raises(FRSError, match="at least 2 folds"):
        make_fold_pairs(PEOPLE, folds=1)


def test_each_fold_is_scored_at_the_threshold_of_the_others() -> None:
    # Folds 0 and 1 separate anywhere in (0.35, 0.6): the threshold learnt on them (0.475, midway) rejects
    # fold 2's genuine 0.45. Learnt with fold 2 in (0.4 or 0.375), it serves folds 0 and 1 without error.
    scores = [0.9, 0.6, 0.35, 0.1, 0.8, 0.7, 0.3, 0.2, 0.45, 0.95, 0.1, 0.05]
    same = [True, True, False, False] * 2 + [True, True, False, False]
    folds = ["0"] * 4 + ["1"] * 4 + ["2"] * 4
    result = kfold_accuracy(scores, same, folds)
    assert result is not None
    assert result.accuracies == (1.0, 1.0, 0.75)
    assert result.pairs == (4, 4, 4)
    assert result.thresholds == pytest.approx((0.375, 0.4, 0.475))
    assert math.isclose(result.mean, 11 / 12)
    assert math.isclose(result.std, float(np.std([1.0, 1.0, 0.75])))


def test_a_pair_without_a_face_is_a_rejection() -> None:
    scores = [0.9, -math.inf, 0.1, 0.2, 0.8, 0.7, 0.3, 0.1]
    same = [True, True, False, False] * 2
    result = kfold_accuracy(scores, same, [0] * 4 + [1] * 4)
    assert result is not None
    assert result.accuracies == (0.75, 1.0)
    assert result.failed_pairs == 1
    assert result.to_dict()["failed_pairs"] == 1


def test_one_fold_has_no_kfold_accuracy() -> None:
    assert kfold_accuracy([0.9, 0.1], [True, False], [0, 0]) is None
    with pytest.raises(ValueError, match="one entry per pair"):
        kfold_accuracy([0.9], [True, False], [0, 1])
