"""FRVT open-set rates (rank 1) on searches small enough to count by hand."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from frs.evaluation import open_set
from frs.evaluation.open_set import SearchScores, fnir_at_fpir, search_scores

# Three enrolled identities (columns). Mated probes with their mate's column:
MATED = np.array(
    [
        [0.80, 0.20, 0.10],  # mate 0, rank 1 at 0.80
        [0.30, 0.60, 0.20],  # mate 0, but 1 is on top (0.60): named wrongly at t <= 0.60
        [0.40, 0.40, 0.00],  # mate 1 ties with 0: not rank 1
        [0.10, 0.20, 0.45],  # mate 2, rank 1 at 0.45
    ]
)
MATES = [0, 0, 1, 2]
NONMATED = np.array(
    [
        [0.50, 0.10, 0.20],  # best 0.50
        [0.10, 0.35, 0.30],  # best 0.35
        [0.05, 0.00, 0.10],  # best 0.10
        [0.20, 0.25, 0.70],  # best 0.70
    ]
)


def test_docstring_examples_hold() -> None:
    failures, attempted = doctest.testmod(open_set)
    assert attempted >= 1 and failures == 0


def test_rank_one_mate_scores_count_ties_against_the_mate() -> None:
    rank_one, best = search_scores(MATED, MATES)
    assert rank_one.tolist() == [0.80, -np.inf, -np.inf, 0.45]
    assert best.tolist() == [0.80, 0.60, 0.40, 0.45]


def test_an_empty_gallery_names_nobody() -> None:
    rank_one, best = search_scores(np.zeros((2, 0)), [-1, -1])
    assert np.isneginf(rank_one).all() and np.isneginf(best).all()


@pytest.mark.parametrize("mates", [[0, 0, 3, 2], [0, 0, -2, 2], [0, 0, 1]])
def test_mates_must_be_columns(mates: list[int]) -> None:
    with pytest.raises(ValueError):
        search_scores(MATED, mates)


def test_rates_at_a_threshold() -> None:
    scores = SearchScores.of(MATED, MATES, NONMATED)
    at = scores.at(0.45)
    assert (at.fnir.count, at.fnir.n) == (2, 4)  # the tie and the wrong top-1
    assert (at.fpir.count, at.fpir.n) == (2, 4)  # 0.50 and 0.70
    assert at.named_wrongly == 1  # probe 2 names identity 1 at 0.60; the tie's 0.40 is below
    at = scores.at(0.4)
    assert at.named_wrongly == 2  # now the tie (0.40 >= 0.40) names someone too
    at = scores.at(0.9)
    assert (at.fnir.count, at.fpir.count, at.named_wrongly) == (4, 0, 0)


def test_failed_searches_miss_when_mated_and_name_nobody_otherwise() -> None:
    scores = SearchScores.of(MATED, MATES, NONMATED) + SearchScores.failed(mated=2, nonmated=3)
    at = scores.at(-1.0)  # the lowest threshold a cosine can have
    assert (at.fnir.count, at.fnir.n) == (2 + 2, 6)  # the two not rank 1, and the two failed
    assert (at.fpir.count, at.fpir.n) == (4, 7)


def test_det_curve_is_the_roc_of_mated_and_nonmated() -> None:
    det = SearchScores.of(MATED, MATES, NONMATED).det()
    assert (det.n_genuine, det.n_impostor) == (4, 4)
    index = det.thresholds.tolist().index(0.45)
    assert (1 - det.tar[index], det.far[index]) == (0.5, 0.5)


def test_fnir_at_fpir_sets_the_threshold_on_the_nonmated_only() -> None:
    rng = np.random.default_rng(3)
    nonmated = rng.uniform(0.0, 0.5, size=(200, 5))
    mated = rng.uniform(0.0, 0.3, size=(50, 5))
    mated[np.arange(50), 0] = np.linspace(0.31, 0.9, 50)
    scores = SearchScores.of(mated, np.zeros(50, dtype=np.int64), nonmated)
    found = fnir_at_fpir(scores, 0.01, distinct_nonmated=200)
    assert found is not None
    best = np.sort(nonmated.max(axis=1))[::-1]
    assert best[2] < found.threshold <= best[1] + 1e-12  # 2 of 200 may pass: just above the third best
    assert found.fpir.count == 2 and found.fnir.count == int((mated[:, 0] < found.threshold).sum())


def test_fnir_at_fpir_needs_enough_distinct_nonmated_photos() -> None:
    scores = SearchScores.of(MATED, MATES, np.tile(NONMATED, (300, 1)))  # 1,200 searches of 4 photos
    assert fnir_at_fpir(scores, 0.01, distinct_nonmated=99) is None
    assert fnir_at_fpir(scores, 0.01, distinct_nonmated=100) is not None
    assert fnir_at_fpir(scores, 0.001, distinct_nonmated=100) is None
