"""Metric functions on hand-computed cases, plus a brute-force cross-check of the ROC."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frs.evaluation import metrics
from frs.evaluation.metrics import (
    best_threshold,
    equal_error_rate,
    open_set_metrics,
    rates_at_threshold,
    roc_curve,
    tar_at_far,
    top_k_accuracy,
)


def test_docstring_examples_hold():
    failures, attempted = doctest.testmod(metrics)
    assert attempted > 10
    assert failures == 0


# ------------------------------------------------------------------------------------------------------ top-k


SIM = np.array(
    [
        [0.9, 0.1, 0.3, 0.2],  # truth 0: rank 1
        [0.2, 0.4, 0.8, 0.5],  # truth 1: rank 3 (0.8 and 0.5 above)
        [0.5, 0.6, 0.1, 0.7],  # truth 0: rank 3
        [0.3, 0.9, 0.2, 0.1],  # not enrolled
    ]
)


@pytest.mark.parametrize(("k", "expected"), [(1, 1 / 3), (2, 1 / 3), (3, 1.0), (10, 1.0)])
def test_top_k_over_enrolled_probes_only(k, expected):
    assert top_k_accuracy(SIM, [0, 1, 0, -1], k) == pytest.approx(expected)


def test_top_k_ties_count_against_the_probe():
    tied = np.array([[0.5, 0.5, 0.1]])
    assert top_k_accuracy(tied, [0], 1) == 0.0
    assert top_k_accuracy(tied, [0], 2) == 1.0


def test_top_k_without_enrolled_probes_is_none():
    assert top_k_accuracy(SIM, [-1, -1, -1, -1], 1) is None


@pytest.mark.parametrize("truth", [[0, 1, 0], [0, 1, 4, 0], [0, 1, -2, 0]])
def test_top_k_rejects_bad_labels(truth):
    with pytest.raises(ValueError):
        top_k_accuracy(SIM, truth, 1)


# --------------------------------------------------------------------------------------------------- open set


def test_open_set_counts_and_rates():
    best = [0.9, 0.8, 0.3, 0.6, 0.7, 0.2, 0.6]
    known = [True, True, True, True, False, False, False]
    correct = [True, False, True, True, True, True, True]  # ignored for unknown probes
    m = open_set_metrics(best, known, correct, threshold=0.6)
    # accepted (>= 0.6): probes 0, 1, 3, 4, 6
    assert (m.true_accepts, m.misidentified, m.false_rejects, m.false_accepts) == (2, 1, 1, 2)
    assert (m.n_known, m.n_unknown) == (4, 3)
    assert m.precision == pytest.approx(2 / 5)
    assert m.recall == pytest.approx(2 / 4)
    assert m.false_accept_rate == pytest.approx(2 / 3)
    assert m.false_reject_rate == pytest.approx(1 / 4)
    assert m.misidentification_rate == pytest.approx(1 / 4)


def test_open_set_undefined_rates_are_none():
    only_known_rejected = open_set_metrics([0.1, 0.2], [True, True], [True, True], threshold=0.5)
    assert only_known_rejected.precision is None  # nothing accepted
    assert only_known_rejected.false_accept_rate is None  # no unknown probes
    assert only_known_rejected.false_reject_rate == 1.0
    only_unknown = open_set_metrics([0.9], [False], [False], threshold=0.5)
    assert only_unknown.recall is None
    assert only_unknown.precision == 0.0
    assert only_unknown.false_accept_rate == 1.0


def test_open_set_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        open_set_metrics([0.1, 0.2], [True], [True, False], threshold=0.5)


# ---------------------------------------------------------------------------------------------- verification


def test_roc_points_by_hand():
    roc = roc_curve([0.9, 0.8, 0.4], [0.7, 0.3, 0.2])
    assert roc.tar.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert roc.far.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    assert (roc.n_genuine, roc.n_impostor) == (3, 3)


def test_roc_shared_scores_move_both_rates_at_once():
    roc = roc_curve([0.5, 0.9], [0.5, 0.1])
    assert roc.thresholds.tolist() == [np.inf, 0.9, 0.5, 0.1]
    assert roc.true_accepts.tolist() == [0, 1, 2, 2]
    assert roc.false_accepts.tolist() == [0, 0, 1, 2]


@pytest.mark.parametrize(("genuine", "impostor"), [([], [0.1]), ([0.1], []), ([np.nan], [0.1])])
def test_roc_rejects_empty_or_nan(genuine, impostor):
    with pytest.raises(ValueError):
        roc_curve(genuine, impostor)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 20), min_size=1, max_size=15),
    st.lists(st.integers(0, 20), min_size=1, max_size=15),
)
def test_roc_matches_brute_force(genuine_ints, impostor_ints):
    # Small integer grids force plenty of ties between and within the two sets.
    genuine = np.array(genuine_ints) / 20
    impostor = np.array(impostor_ints) / 20
    roc = roc_curve(genuine, impostor)
    for threshold, tp, fp in zip(roc.thresholds, roc.true_accepts, roc.false_accepts, strict=True):
        assert tp == (genuine >= threshold).sum()
        assert fp == (impostor >= threshold).sum()
    assert len(roc.thresholds) == len(set(genuine_ints) | set(impostor_ints)) + 1
    eer = equal_error_rate(roc)
    assert 0.0 <= eer.rate <= 1.0


def _tar_case(n_impostor: int) -> tuple[np.ndarray, np.ndarray]:
    genuine = np.array([0.9, 0.6, 0.45, 0.3])
    impostor = np.concatenate([[0.55], np.linspace(0.0, 0.4, n_impostor - 1)])
    return genuine, impostor


def test_tar_at_far_allows_exactly_the_permitted_impostors():
    roc = roc_curve(*_tar_case(100))
    found = tar_at_far(roc, 1e-2)  # one impostor (0.55) may be accepted: stop just above 0.4
    assert found is not None
    assert found.tar == pytest.approx(3 / 4)
    assert found.far == pytest.approx(1 / 100)
    assert found.threshold == pytest.approx(0.45)
    strict = tar_at_far(roc_curve(*_tar_case(1000)), 1e-3)
    assert strict is not None
    assert strict.threshold == pytest.approx(0.45)


def test_tar_at_far_reports_the_lowest_far_for_the_best_tar():
    # Above the last genuine score only impostors remain: accepting them adds FAR but no TAR.
    roc = roc_curve([0.9], [0.5, 0.4, 0.3, 0.2])
    found = tar_at_far(roc, 0.5)
    assert found is not None
    assert (found.tar, found.far, found.threshold) == (1.0, 0.0, 0.9)


def test_tar_at_far_needs_enough_impostors():
    roc = roc_curve(*_tar_case(999))
    assert tar_at_far(roc, 1e-3) is None
    assert tar_at_far(roc, 1e-2) is not None


def test_tar_at_far_validates_target():
    roc = roc_curve([0.9], [0.1])
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError):
            tar_at_far(roc, bad)


def test_eer_exact_crossing():
    eer = equal_error_rate(roc_curve([0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.65]))
    assert eer.rate == pytest.approx(0.25)
    assert eer.threshold == pytest.approx(0.65)


def test_eer_interpolates_between_bracketing_points():
    # At 0.8: FAR 0, FRR 1/3 (d = -1/3). At 0.5: FAR 1/2, FRR 1/3 (d = 1/6). Weight 2/3.
    eer = equal_error_rate(roc_curve([0.9, 0.8, 0.3], [0.5, 0.1]))
    assert eer.rate == pytest.approx(1 / 3)
    assert eer.threshold == pytest.approx(0.8 + 2 / 3 * (0.5 - 0.8))


def test_eer_of_perfect_separation_is_zero():
    eer = equal_error_rate(roc_curve([0.9, 0.8], [0.1, 0.2]))
    assert eer.rate == 0.0
    assert eer.threshold == pytest.approx(0.8)


def test_eer_of_reversed_scores_is_one():
    eer = equal_error_rate(roc_curve([0.1], [0.9]))
    assert eer.rate == pytest.approx(1.0)


def test_best_threshold_plain_vs_balanced():
    genuine = [0.9, 0.5]
    impostor = [0.6] + [0.1] * 97
    roc = roc_curve(genuine, impostor)
    plain = best_threshold(roc, balanced=False)
    # 0.9 and 0.5 both get 99 of 100 pairs right; ties go to the higher threshold.
    assert (plain.threshold, plain.accuracy, plain.criterion) == (0.9, 0.99, "accuracy")
    balanced = best_threshold(roc, balanced=True)
    assert balanced.threshold == 0.5
    assert balanced.balanced_accuracy == pytest.approx((1 + 1 - 1 / 98) / 2)
    assert balanced.tar == 1.0
    assert balanced.far == pytest.approx(1 / 98)
    assert balanced.criterion == "balanced_accuracy"


def test_rates_at_threshold_accept_equal_scores():
    rates = rates_at_threshold([0.5, 0.4], [0.5, 0.1, 0.2, 0.3], 0.5)
    assert (rates.tar, rates.far) == (0.5, 0.25)


def test_thinned_keeps_exact_endpoints_and_a_subset():
    rng = np.random.default_rng(1)
    roc = roc_curve(rng.normal(0.6, 0.1, 500), rng.normal(0.1, 0.1, 5000))
    thin = roc.thinned(50)
    assert len(thin.thresholds) <= 50
    assert thin.thresholds[0] == np.inf
    assert thin.thresholds[-1] == roc.thresholds[-1]
    assert set(thin.thresholds.tolist()) <= set(roc.thresholds.tolist())
    assert np.all(np.diff(thin.far) >= 0)
    assert roc_curve([0.9], [0.1]).thinned(50).thresholds.tolist() == [np.inf, 0.9, 0.1]
