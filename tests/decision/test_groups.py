"""Look-alike groups: obvious clusters are found, and bad group counts are refused."""

from __future__ import annotations

import numpy as np
import pytest

from frs.decision.groups import look_alike_groups


def test_two_obvious_clusters_become_two_groups() -> None:
    rng = np.random.default_rng(0)
    north = np.array([0.0, 0.0, 1.0]) + 0.05 * rng.normal(size=(20, 3))
    east = np.array([1.0, 0.0, 0.0]) + 0.05 * rng.normal(size=(20, 3))
    groups = look_alike_groups(np.vstack([north, east]), 2)
    assert len(set(groups[:20].tolist())) == 1
    assert len(set(groups[20:].tolist())) == 1
    assert groups[0] != groups[20]


@pytest.mark.parametrize("count", [0, 5])
def test_group_count_must_fit_the_faces(count: int) -> None:
    with pytest.raises(ValueError):
        look_alike_groups(np.eye(4), count)
