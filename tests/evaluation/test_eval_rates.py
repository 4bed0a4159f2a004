"""Rates with their sample size and Wilson interval, checked against values computed by hand."""

from __future__ import annotations

import doctest
import math

import pytest

from frs.evaluation import rates
from frs.evaluation.rates import Z95, Rate, wilson_interval


def test_docstring_examples_hold() -> None:
    failures, attempted = doctest.testmod(rates)
    assert attempted >= 2 and failures == 0


def test_wilson_by_the_formula() -> None:
    # 12 of 80: p = 0.15, z^2 = 3.8415; centre = (0.15 + z^2/160) / (1 + z^2/80) = 0.17401 / 1.04802;
    # half = z * sqrt(0.15*0.85/80 + z^2/25600) / 1.04802 = 0.07810: [0.0879, 0.2441].
    z2 = Z95**2
    centre = (0.15 + z2 / 160) / (1 + z2 / 80)
    half = Z95 * math.sqrt(0.15 * 0.85 / 80 + z2 / 25600) / (1 + z2 / 80)
    low, high = wilson_interval(12, 80)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert (round(low, 4), round(high, 4)) == (0.0879, 0.2441)


def test_wilson_at_the_ends_is_not_a_point() -> None:
    low, high = wilson_interval(0, 50)
    assert low == 0.0 and high == pytest.approx(0.0713, abs=1e-4)
    low, high = wilson_interval(50, 50)
    assert low == pytest.approx(0.9287, abs=1e-4) and high == 1.0


def test_wilson_narrows_with_the_sample() -> None:
    small, large = wilson_interval(1, 10), wilson_interval(100, 1000)
    assert small[1] - small[0] > large[1] - large[0]
    assert small[0] < 0.1 < small[1] and large[0] < 0.1 < large[1]


@pytest.mark.parametrize(("count", "n"), [(1, 0), (-1, 5), (6, 5)])
def test_wilson_refuses_impossible_counts(count: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(count, n)


def test_rate_keeps_count_and_sample_and_pools() -> None:
    pooled = Rate(3, 100) + Rate(1, 50)
    assert (pooled.count, pooled.n) == (4, 150)
    assert pooled.value == pytest.approx(4 / 150)
    record = pooled.to_dict()
    assert record["count"] == 4 and record["n"] == 150
    assert record["ci95"] == pytest.approx(list(wilson_interval(4, 150)))


def test_a_rate_of_nothing_has_no_value_and_no_interval() -> None:
    assert Rate(0, 0).to_dict() == {"rate": None, "count": 0, "n": 0, "ci95": None}
    with pytest.raises(ValueError):
        Rate(3, 2)
