"""A measured rate is a count out of a sample: ``Rate`` keeps both and gives the Wilson 95% interval.

Every rate ``frs eval`` writes goes through here, so no figure leaves without its sample size and interval;
the report renders nothing else as a rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: The two-sided 95% standard-normal quantile.
Z95 = 1.959963984540054


def wilson_interval(count: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``count`` successes in ``n`` trials (``n > 0``).

    Unlike the normal approximation it stays inside [0, 1] and does not collapse to a point at 0 or n, which
    matters here: error rates of 0 out of 81 are common and mean "below about 4.5%", not "zero".

    >>> tuple(round(x, 4) for x in wilson_interval(0, 81))
    (0.0, 0.0453)
    >>> tuple(round(x, 4) for x in wilson_interval(5, 10))
    (0.2366, 0.7634)
    """
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= count <= n:
        raise ValueError("count must be between 0 and n")
    p = count / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denominator
    # At count 0 (n) the lower (upper) end is exactly 0 (1); floats would leave rounding noise.
    low = 0.0 if count == 0 else max(0.0, centre - half)
    high = 1.0 if count == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    """``count`` of ``n`` (``n`` may be 0: then there is no rate and no interval)."""

    count: int
    n: int

    def __post_init__(self) -> None:
        if self.n < 0 or not 0 <= self.count <= max(self.n, 0):
            raise ValueError(f"a rate needs 0 <= count <= n, got {self.count}/{self.n}")

    @property
    def value(self) -> float | None:
        return self.count / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.count, self.n) if self.n else None

    def __add__(self, other: Rate) -> Rate:
        """Pooled over two samples (the draws of one gallery size)."""
        return Rate(self.count + other.count, self.n + other.n)

    def to_dict(self) -> dict[str, Any]:
        interval = self.interval
        return {
            "rate": self.value,
            "count": self.count,
            "n": self.n,
            "ci95": [interval[0], interval[1]] if interval else None,
        }
