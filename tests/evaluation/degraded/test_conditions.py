"""Degraded copies: what each condition does to real pixels, and that noise repeats with its seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frs.evaluation.degraded.conditions import CLEAN, CONDITIONS, Condition, by_name, degrade, read_rgb


def test_conditions_darken_grey_and_add_repeatable_noise(testdata: Path) -> None:
    data = (testdata / "person_b_1.jpg").read_bytes()
    rgb = read_rgb(data)
    assert degrade(CLEAN, data, "k") == data
    assert Condition("d", brightness=0.25).apply(rgb, "k").mean() < rgb.mean() * 0.3
    assert Condition("g", gamma=3.0).apply(rgb, "k").mean() < rgb.mean()
    assert Condition("c", contrast=0.3).apply(rgb, "k").std() < rgb.std() * 0.35
    assert Condition("gray", grayscale=True).apply(rgb, "k").ndim == 2
    noisy = Condition("n", noise_sigma=25.0)
    assert np.array_equal(noisy.apply(rgb, "k"), noisy.apply(rgb, "k"))
    assert not np.array_equal(noisy.apply(rgb, "k"), noisy.apply(rgb, "other"))
    for condition in CONDITIONS:
        assert read_rgb(degrade(condition, data, "k")).shape == rgb.shape


def test_by_name_names_unknown_conditions() -> None:
    assert by_name("clean, grayscale") == (CLEAN, by_name("grayscale")[0])
    with pytest.raises(ValueError, match="unknown condition"):
        by_name("fog")
