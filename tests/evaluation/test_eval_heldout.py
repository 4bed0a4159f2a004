"""``frs calibrate --check``'s machinery: person splits, one calibration per half, pooled FRVT rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frs.decision.calibration import Calibration, calibrate_pack
from frs.errors import FRSError
from frs.evaluation.embeddings import ImageVectors
from frs.evaluation.heldout import CheckPlan, check_calibration, split_people


def _population(people: int = 260, seed: int = 5) -> tuple[dict[str, list[Path]], ImageVectors]:
    """Synthetic people in 32-d: a third with 3-5 photos, the rest with one."""
    rng = np.random.default_rng(seed)
    identities: dict[str, list[Path]] = {}
    images = ImageVectors(Path("/synthetic"))
    for index in range(people):
        name = f"p{index:03d}"
        count = int(rng.integers(3, 6)) if index % 3 == 0 else 1
        centre = rng.normal(size=32)
        identities[name] = [Path(f"/synthetic/{name}/{k}.jpg") for k in range(count)]
        for path in identities[name]:
            vector = centre + 0.9 * rng.normal(size=32)
            images.vectors[path] = (vector / np.linalg.norm(vector)).astype(np.float32)
    # one photo gave no face: its searches fail
    images.vectors[identities["p000"][0]] = None
    return identities, images


def _calibrate(vectors: np.ndarray, labels: list[str]) -> Calibration:
    return calibrate_pack(vectors, labels, pack="synthetic", dataset="half")


def test_halves_are_disjoint_cover_everyone_and_split_both_kinds() -> None:
    identities, _ = _population()
    a, b = split_people(identities, seed=1)
    assert a.isdisjoint(b) and a | b == set(identities)
    several = {name for name, paths in identities.items() if len(paths) > 1}
    assert abs(len(a & several) - len(b & several)) <= 1
    assert split_people(identities, seed=1) == (a, b) and split_people(identities, seed=2) != (a, b)


def test_the_check_pools_every_split_direction_and_draw() -> None:
    identities, images = _population()
    calls: list[int] = []

    def calibrate(vectors: np.ndarray, labels: list[str]) -> Calibration:
        calls.append(len(labels))
        return _calibrate(vectors, labels)

    plan = CheckPlan(splits=2, draws=3, gallery_sizes=(5, 20, 500), photos=(1, 2), target_fpir=0.05)
    result = check_calibration(identities, images, plan, calibrate)
    assert len(calls) == 4 and len(result["calibrations"]) == 4  # 2 splits x 2 directions
    # 500 people cannot be enrolled from a half of 260: skipped, for both photo counts.
    assert result["skipped"] == [
        {"photos_per_person": 1, "gallery_size": 500},
        {"photos_per_person": 2, "gallery_size": 500},
    ]
    rows = {(row["photos_per_person"], row["gallery_size"]): row for row in result["rows"]}
    assert set(rows) == {(1, 5), (1, 20), (2, 5), (2, 20)}
    for row in rows.values():
        assert row["draws"] == 4 * 3
        assert len(row["fpir_over_target_per_split"]["values"]) == 4
        fpir = row["fpir"]
        assert row["fpir_over_target"] == pytest.approx(fpir["count"] / fpir["n"] / 0.05)
        oracle = row["oracle_at_target"]
        if oracle is not None:
            assert row["fnir_gap"] == pytest.approx(row["fnir"]["rate"] - oracle["fnir"]["rate"])
            assert oracle["fpir"]["rate"] <= 0.05
    # The threshold rises with the gallery, and with the photos enrolled per person (faces are counted).
    assert rows[(1, 5)]["threshold"]["mean"] < rows[(1, 20)]["threshold"]["mean"]
    assert rows[(1, 20)]["threshold"]["mean"] < rows[(2, 20)]["threshold"]["mean"]
    # Lined-up draws: the same searches whatever the photos enrolled.
    assert rows[(1, 20)]["searches"] == rows[(2, 20)]["searches"]
    assert result["no_vector"] == 1
    assert check_calibration(identities, images, plan, _calibrate)["rows"] == result["rows"]  # seeded


@pytest.mark.parametrize(
    "change", [{"splits": 0}, {"draws": 0}, {"gallery_sizes": ()}, {"photos": (0,)}, {"gallery_sizes": (0,)}]
)
def test_an_impossible_plan_is_a_bad_request(change: dict[str, object]) -> None:
    with pytest.raises(FRSError) as caught:
        CheckPlan(**change)  # type: ignore[arg-type]
    assert caught.value.code == "bad_request"
