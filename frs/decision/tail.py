"""Generalised Pareto tail of a score distribution (peaks over a threshold), in plain numpy.

Extreme-value theory says the excesses ``y = s - u`` of a distribution over a high threshold ``u`` follow a
generalised Pareto distribution (GPD) with shape ``xi`` and scale ``sigma``: ``P(Y > y) = (1 + xi y / sigma)
** (-1 / xi)`` (``exp(-y / sigma)`` when ``xi == 0``). Cosine similarities are bounded by 1, so fitted shapes
are usually negative (a finite end point ``u + sigma / -xi``). The fit is maximum likelihood through
Grimshaw's one-parameter profile (``theta = xi / sigma``), searched on a grid and refined by golden section:
no scipy, so the same code runs in the service image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Shapes below -1 make the likelihood unbounded at the end point; below -0.5 the MLE is irregular.
MIN_SHAPE = -1.0


@dataclass(frozen=True)
class ParetoTail:
    shape: float  # xi
    scale: float  # sigma > 0

    def survival(self, excess: float) -> float:
        """P(Y > excess) for an excess over the threshold (1 for excess <= 0)."""
        if excess <= 0:
            return 1.0
        if self.shape == 0.0:
            return math.exp(-excess / self.scale)
        base = 1.0 + self.shape * excess / self.scale
        if base <= 0.0:  # beyond the end point of a bounded tail
            return 0.0
        return math.pow(base, -1.0 / self.shape)

    def excess_at(self, probability: float) -> float:
        """The excess whose survival is ``probability`` (0 < probability <= 1); inverse of ``survival``."""
        if not 0.0 < probability <= 1.0:
            raise ValueError("probability must be in (0, 1]")
        if self.shape == 0.0:
            return -self.scale * math.log(probability)
        return self.scale / self.shape * (math.pow(probability, -self.shape) - 1.0)


def _profile_loglik(
    theta: float, excesses: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]
) -> float:
    """Weighted log-likelihood maximised over the scale for ``theta = shape / scale`` (Grimshaw 1993)."""
    total = float(weights.sum())
    if theta == 0.0:
        mean = float(weights @ excesses) / total
        return -total * math.log(mean) - total
    logs = np.log1p(theta * excesses)
    shape = float(weights @ logs) / total
    scale = shape / theta
    if scale <= 0 or shape < MIN_SHAPE:
        return -math.inf
    return -total * math.log(scale) - (1.0 + 1.0 / shape) * float(weights @ logs)


def fit_pareto_tail(
    excesses: npt.ArrayLike, weights: npt.ArrayLike | None = None, *, light: bool = False
) -> ParetoTail:
    """Maximum-likelihood GPD for positive ``excesses`` (at least 10 of them), each counted with its
    ``weight`` (default 1: a weighted sample, e.g. pairs of faces weighed so each identity counts once).

    ``light``: the tail may be no heavier than exponential (shape <= 0): a positive fitted shape is replaced
    by the exponential fit. Similarities are bounded, so a heavy fit comes from a few pairs of another
    population at the very top (look-alike relatives, mislabelled photos) and extrapolates too steeply."""
    y = np.asarray(excesses, dtype=np.float64).reshape(-1)
    if y.size < 10 or (y <= 0).any() or not np.isfinite(y).all():
        raise ValueError("need at least 10 positive, finite excesses")
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != y.shape or (w <= 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be positive and finite, one per excess")
    w = w / w.mean()  # the likelihood's scale is the sample's size, whatever unit the weights come in
    y_max, y_mean = float(y.max()), float(w @ y) / float(w.sum())
    # theta ranges over (-1/y_max, +inf): negative thetas approach the end point, positive ones heavy tails.
    near_zero = np.logspace(-5, 0, 100, endpoint=False)
    fractions = np.unique(np.concatenate([near_zero, 1 - np.logspace(-1, -7, 60)]))
    negative = -fractions[::-1] / y_max
    positive = np.logspace(-4, 2, 120) / y_mean
    grid = np.concatenate([negative, [0.0], positive])
    values = np.array([_profile_loglik(float(t), y, w) for t in grid])
    best = int(np.argmax(values))
    low = float(grid[max(best - 1, 0)])
    high = float(grid[min(best + 1, grid.size - 1)])
    # Golden-section refinement inside the bracket around the best grid point.
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    for _ in range(60):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if _profile_loglik(c, y, w) >= _profile_loglik(d, y, w):
            b = d
        else:
            a = c
    theta = (a + b) / 2
    if _profile_loglik(theta, y, w) < values[best]:
        theta = float(grid[best])
    if theta == 0.0 or (light and theta > 0.0):
        return ParetoTail(shape=0.0, scale=y_mean)
    shape = float(w @ np.log1p(theta * y)) / float(w.sum())
    return ParetoTail(shape=shape, scale=shape / theta)
