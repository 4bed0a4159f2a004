"""report.md's number formats: a rate never appears without its count, sample size and interval."""

from __future__ import annotations

import pytest

from frs.evaluation.rates import Rate
from frs.evaluation.report.format import count, duration, ms, percent, rate, table, target


def test_a_complete_rate_shows_interval_and_sample() -> None:
    assert rate(Rate(5, 270).to_dict()) == "1.85 % [0.79, 4.26] (5/270)"
    assert rate(Rate(0, 1416).to_dict()) == "0 % [0, 0.27] (0/1,416)"


@pytest.mark.parametrize(
    "record",
    [
        {"rate": 0.5},
        {"rate": 0.5, "count": 1, "n": 2},
        {"rate": 0.5, "count": 1, "n": 2, "ci95": None},
        {"rate": None, "count": 0, "n": 0, "ci95": None},
        0.5,
        None,
    ],
)
def test_an_incomplete_rate_is_not_rendered(record: object) -> None:
    assert rate(record) == "n/a"


def test_percentages_keep_small_rates_readable() -> None:
    assert [percent(x) for x in (0.123, 0.0185, 0.0029, 0.00012, 0.0)] == [
        "12.3",
        "1.85",
        "0.29",
        "0.012",
        "0",
    ]
    assert percent(None) == "n/a" and percent(True) == "n/a"


def test_units() -> None:
    assert [ms(x) for x in (1046.46, 19.14, 7.0, 0.054)] == ["1046.5", "19.1", "7.00", "0.0540"]
    assert count(1198786) == "1,198,786" and target(0.001) == "0.1%" and target(0.01) == "1%"
    assert duration(186.1) == "3 min 6 s" and duration(15.3) == "15.3 s"


def test_tables_escape_pipes() -> None:
    assert table(["a"], [["x | y"]]) == ["| a |", "|---|", "| x \\| y |", ""]
