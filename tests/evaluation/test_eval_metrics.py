"""Metric functions on hand-computed cases, plus a brute-force cross-check of the ROC."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frs.evaluation import metrics
from frs.evaluation.metrics import (
    equal_error_rate,
    rates_at_threshold,
    roc_curve,
    threshold_at_rate,
)


def test_docstring_examples_hold():
    failures, attempted = doctest.testmod(metrics)
    assert attempted > 8
    assert failures == 0


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


def test_threshold_at_rate_lets_exactly_the_permitted_negatives_pass():
    genuine, impostor = _tar_case(100)
    threshold = threshold_at_rate(impostor, 1e-2)  # one impostor (0.55) may pass: just above 0.4
    assert threshold is not None and 0.4 < threshold < 0.4 + 1e-12
    assert int((impostor >= threshold).sum()) == 1
    assert int((genuine >= threshold).sum()) == 3
    genuine, impostor = _tar_case(1000)
    strict = threshold_at_rate(impostor, 1e-3)
    assert strict is not None and int((impostor >= strict).sum()) == 1


def test_threshold_at_rate_depends_on_the_negatives_only():
    """FRVT's rule: the threshold is a quantile of the negatives, wherever the positives lie."""
    impostor = np.linspace(0.0, 0.99, 100)
    threshold = threshold_at_rate(impostor, 0.05)
    assert threshold is not None and threshold == pytest.approx(0.94, abs=1e-9)
    assert int((impostor >= threshold).sum()) == 5  # 0.95 to 0.99


def test_threshold_at_rate_on_ties_allows_fewer_rather_than_more():
    # Three negatives tie at 0.5 and one is allowed: all three must be refused.
    threshold = threshold_at_rate([0.5, 0.5, 0.5, 0.1] + [0.0] * 96, 0.01)
    assert threshold is not None and threshold > 0.5
    assert threshold_at_rate([0.5, 0.5, 0.5, 0.1] + [0.0] * 96, 0.03) == pytest.approx(0.1, abs=1e-12)


def test_threshold_at_rate_needs_enough_negatives():
    assert threshold_at_rate(np.zeros(999), 1e-3) is None
    assert threshold_at_rate(np.zeros(1000), 1e-3) is not None


def test_threshold_at_rate_validates_target():
    for bad in (0.0, -0.1, 1.0, 1.5):
        with pytest.raises(ValueError):
            threshold_at_rate([0.1, 0.2], bad)


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
