"""Generalised Pareto tail: survival and its inverse by hand, and the fit recovering known parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from frs.decision.tail import ParetoTail, fit_pareto_tail


def test_survival_by_hand() -> None:
    # shape 0.5, scale 1: (1 + 0.5 * 2) ** -2 = 1/4.
    assert ParetoTail(0.5, 1.0).survival(2.0) == pytest.approx(0.25)
    assert ParetoTail(0.0, 2.0).survival(2.0) == pytest.approx(math.exp(-1))
    # shape -0.5, scale 1: end point at 2; (1 - 0.5 * 1) ** 2 = 1/4.
    assert ParetoTail(-0.5, 1.0).survival(1.0) == pytest.approx(0.25)
    assert ParetoTail(-0.5, 1.0).survival(2.5) == 0.0
    assert ParetoTail(-0.5, 1.0).survival(-1.0) == 1.0


@pytest.mark.parametrize("tail", [ParetoTail(0.5, 1.0), ParetoTail(0.0, 0.1), ParetoTail(-0.3, 0.02)])
def test_excess_at_inverts_survival(tail: ParetoTail) -> None:
    for probability in (0.9, 0.1, 1e-3, 1e-6):
        assert tail.survival(tail.excess_at(probability)) == pytest.approx(probability, rel=1e-9)


@pytest.mark.parametrize(("shape", "scale"), [(-0.3, 0.02), (0.0, 0.05), (0.2, 1.0)])
def test_fit_recovers_known_parameters(shape: float, scale: float) -> None:
    uniform = np.random.default_rng(3).uniform(size=5000)
    excesses = -scale * np.log(uniform) if shape == 0 else scale / shape * (uniform ** (-shape) - 1)
    fitted = fit_pareto_tail(excesses)
    assert fitted.shape == pytest.approx(shape, abs=0.05)
    assert fitted.scale == pytest.approx(scale, rel=0.06)


def test_fit_needs_enough_positive_excesses() -> None:
    with pytest.raises(ValueError):
        fit_pareto_tail([0.1] * 5)
    with pytest.raises(ValueError):
        fit_pareto_tail([0.1] * 20 + [-0.1])


def test_weights_count_an_excess_as_that_many_repeats() -> None:
    excesses = np.random.default_rng(5).exponential(0.05, size=400)
    doubled = fit_pareto_tail(np.concatenate([excesses, excesses[:100]]))
    weighted = fit_pareto_tail(excesses, np.concatenate([np.full(100, 2.0), np.ones(300)]))
    assert weighted.shape == pytest.approx(doubled.shape, abs=1e-6)
    assert weighted.scale == pytest.approx(doubled.scale, rel=1e-6)
    with pytest.raises(ValueError):
        fit_pareto_tail(excesses, np.zeros(400))


def test_a_light_tail_is_never_heavier_than_exponential() -> None:
    uniform = np.random.default_rng(3).uniform(size=5000)
    heavy = 1.0 / 0.3 * (uniform**-0.3 - 1)  # shape +0.3
    assert fit_pareto_tail(heavy).shape == pytest.approx(0.3, abs=0.05)
    light = fit_pareto_tail(heavy, light=True)
    assert light.shape == 0.0
    assert light.scale == pytest.approx(heavy.mean())
    bounded = -0.02 / 0.3 * (uniform**0.3 - 1)  # shape -0.3: kept as fitted
    assert fit_pareto_tail(bounded, light=True).shape == pytest.approx(-0.3, abs=0.05)
