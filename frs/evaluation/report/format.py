"""Markdown building blocks for report.md: tables, and numbers with their units.

A rate is rendered only from a complete record (``{"rate", "count", "n", "ci95"}`` as
:class:`frs.evaluation.rates.Rate` writes it): anything less renders as "n/a", never as a bare percentage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NOT_AVAILABLE = "n/a"


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def count(value: Any) -> str:
    """An integer with thousands separators (``1,416``)."""
    return f"{value:,}" if is_number(value) else NOT_AVAILABLE


def percent(value: Any) -> str:
    """A share as a percentage, more decimals for small ones (``12.3``, ``1.85``, ``0.29``, ``0.012``)."""
    if not is_number(value):
        return NOT_AVAILABLE
    pct = 100.0 * value
    if pct == 0:
        return "0"
    if abs(pct) >= 10:
        return f"{pct:.1f}"
    return f"{pct:.2f}" if abs(pct) >= 0.1 else f"{pct:.3f}"


def rate(record: Any) -> str:
    """``1.85 % [0.94, 3.6] (5/270)``: the rate, its Wilson 95% interval, and the count out of n."""
    data = as_dict(record)
    interval = as_list(data.get("ci95"))
    if not (is_number(data.get("rate")) and is_number(data.get("count")) and is_number(data.get("n"))):
        return NOT_AVAILABLE
    if len(interval) != 2 or not all(is_number(bound) for bound in interval):
        return NOT_AVAILABLE
    low, high = interval
    share = f"{count(data['count'])}/{count(data['n'])}"
    return f"{percent(data['rate'])} % [{percent(low)}, {percent(high)}] ({share})"


def ms(value: Any) -> str:
    """Milliseconds: one decimal from 10 ms, three significant digits below (gallery search is sub-ms)."""
    if not is_number(value):
        return NOT_AVAILABLE
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:#.3g}"


def threshold(value: Any) -> str:
    return f"{value:.3f}" if is_number(value) else NOT_AVAILABLE


def ratio(value: Any) -> str:
    return f"{value:.2f}x" if is_number(value) else NOT_AVAILABLE


def number(value: Any) -> str:
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(number(item) for item in value)
    return str(value)


def target(value: Any) -> str:
    """A target rate as people write it: ``1%``, ``0.1%``, ``0.01%``."""
    return f"{100 * value:g}%" if is_number(value) else NOT_AVAILABLE


def duration(seconds: Any) -> str:
    if not is_number(seconds):
        return NOT_AVAILABLE
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{seconds:.1f} s"


def unsupported(title: str, command: str, found: Any, expected: str) -> list[str]:
    """A section for a file of another schema: said, never guessed at."""
    return [
        title,
        "",
        f"_unsupported {command} file (schema {found!r}, expected {expected}): re-run frs {command}_",
        "",
    ]
