"""``frs calibrate DATASET --check``: does the calibration hold on people it never saw?

Each *split* divides the people in two halves at random (people with several photos and people with one are
split separately, so both halves look alike). The calibration is made from one half and tested on the other,
then the other way round. The test is ``frs eval``'s open-set protocol (:mod:`frs.evaluation.protocol`) on the
test half: seeded draws of ``N`` people enrolled with ``k`` photos each, their other photos searching (mated,
at most ``mated_cap`` a person) and every photo of the people not enrolled searching as strangers. With
several photo counts (``--photos 1,2,3``) the draws are lined up: the same people and the same searches
whatever the count, so the rows differ only by the extra enrolled photos.

For each ``(k, N)``, pooled over splits, directions and draws, the check reports what an operator needs to
trust the operating point (NIST FRVT's terms): the realised FPIR against the target (each search at the
threshold its own calibration gives), the FNIR there, and the **oracle** FNIR, the same searches at the
single threshold that gives exactly the target FPIR, so ``gap`` is what the calibration's error costs. The
spread of the realised FPIR over the split-directions says how much one population of this size can differ
from another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.calibration import Calibration
from frs.decision.operating_point import threshold_for
from frs.errors import FRSError
from frs.evaluation.embeddings import ImageVectors
from frs.evaluation.open_set import OpenSetRates, SearchScores, fnir_at_fpir
from frs.evaluation.protocol import DEFAULT_MATED_CAP, draw_galleries, largest_gallery
from frs.evaluation.rates import Rate
from frs.evaluation.runner import search_draw
from frs.evaluation.systems import cosine

Identities = Mapping[str, Sequence[Path]]
#: Makes a calibration record from some people's vectors: (vectors, labels) -> record.
Calibrate = Callable[[npt.NDArray[np.float32], list[str]], Calibration]


@dataclass(frozen=True)
class CheckPlan:
    splits: int = 5
    draws: int = 4
    gallery_sizes: tuple[int, ...] = (10, 30, 100, 300, 1000)
    photos: tuple[int, ...] = (1,)
    target_fpir: float = 0.01
    mated_cap: int | None = DEFAULT_MATED_CAP
    seed: int = 0

    def __post_init__(self) -> None:
        if self.splits < 1 or self.draws < 1:
            raise FRSError("bad_request", "--splits and --draws must be at least 1")
        if not self.gallery_sizes or min(self.gallery_sizes) < 1 or not self.photos or min(self.photos) < 1:
            raise FRSError("bad_request", "gallery sizes and photos per person must be positive")


def split_people(identities: Identities, seed: int) -> tuple[set[str], set[str]]:
    """Two halves of the people, drawn separately among those with several photos and those with one."""
    rng = np.random.default_rng([seed, 7919])
    halves: tuple[set[str], set[str]] = (set(), set())
    for several in (True, False):
        names = sorted(name for name, paths in identities.items() if (len(paths) > 1) == several)
        order = rng.permutation(len(names))
        for rank, index in enumerate(order):
            halves[rank % 2].add(names[index])
    return halves


@dataclass
class _Pool:
    """What one (photos, gallery size) collects over split-directions and draws."""

    scores: SearchScores | None = None
    fnir: Rate = field(default_factory=lambda: Rate(0, 0))
    fpir: Rate = field(default_factory=lambda: Rate(0, 0))
    thresholds: list[float] = field(default_factory=list)
    extrapolated: int = 0
    measured_gallery_size: int | None = None
    ratios: list[float] = field(default_factory=list)  # realised FPIR / target, per split-direction
    mated_photos: set[Path] = field(default_factory=set)
    nonmated_photos: set[Path] = field(default_factory=set)

    def add(self, scores: SearchScores, at: OpenSetRates) -> None:
        self.scores = scores if self.scores is None else self.scores + scores
        self.fnir += at.fnir
        self.fpir += at.fpir


def _rate(rate: Rate) -> dict[str, Any]:
    return rate.to_dict()


def check_calibration(
    identities: Identities, images: ImageVectors, plan: CheckPlan, calibrate: Calibrate
) -> dict[str, Any]:
    """The held-out check of ``calibrate`` on ``identities`` (their vectors in ``images``; a photo without
    one fails its searches), as a JSON-ready dict."""
    dim = next((v.shape[0] for v in images.vectors.values() if v is not None), 1)
    pools: dict[tuple[int, int], _Pool] = {}
    skipped: set[tuple[int, int]] = set()
    records: list[dict[str, Any]] = []
    for split in range(plan.splits):
        halves = split_people(identities, plan.seed + split)
        for direction, (train, test) in enumerate((halves, halves[::-1])):
            labels = [name for name in sorted(train) for p in identities[name] if images.get(p) is not None]
            vectors = [
                v for name in sorted(train) for p in identities[name] if (v := images.get(p)) is not None
            ]
            record = calibrate(np.stack(vectors), labels)
            records.append(
                {"split": split, "direction": direction, "people": len(train), "faces": len(labels)}
            )
            tested = {name: identities[name] for name in test}
            for photos in plan.photos:
                for size in plan.gallery_sizes:
                    if size > largest_gallery(tested, max(plan.photos)):
                        skipped.add((photos, size))
                        continue
                    pool = pools.setdefault((photos, size), _Pool())
                    seed = plan.seed * 1000 + split * 2 + direction
                    mark = pool.fpir
                    for draw in draw_galleries(
                        tested,
                        size,
                        plan.draws,
                        seed,
                        photos=photos,
                        mated_cap=plan.mated_cap,
                        compared_up_to=max(plan.photos),
                    ):
                        scores, faces = search_draw(cosine, images, draw, dim)
                        point = threshold_for(plan.target_fpir, max(1, faces), record)
                        pool.add(scores, scores.at(point.threshold))
                        pool.thresholds.append(point.threshold)
                        pool.extrapolated += point.extrapolated
                        pool.measured_gallery_size = point.measured_gallery_size
                        pool.mated_photos.update(path for _, path in draw.mated)
                        pool.nonmated_photos.update(draw.nonmated)
                    added = pool.fpir.n - mark.n
                    if added:
                        pool.ratios.append((pool.fpir.count - mark.count) / added / plan.target_fpir)
    rows = []
    for (photos, size), pool in sorted(pools.items()):
        assert pool.scores is not None
        oracle = fnir_at_fpir(pool.scores, plan.target_fpir, distinct_nonmated=len(pool.nonmated_photos))
        fnir, fpir = pool.fnir.value, pool.fpir.value
        rows.append(
            {
                "photos_per_person": photos,
                "gallery_size": size,
                "searches": {"mated": pool.fnir.n, "nonmated": pool.fpir.n},
                "distinct_photos": {"mated": len(pool.mated_photos), "nonmated": len(pool.nonmated_photos)},
                "threshold": {
                    "mean": float(np.mean(pool.thresholds)),
                    "min": min(pool.thresholds),
                    "max": max(pool.thresholds),
                },
                "extrapolated_draws": pool.extrapolated,
                "draws": len(pool.thresholds),
                "measured_gallery_size": pool.measured_gallery_size,
                "fpir": _rate(pool.fpir),
                "fnir": _rate(pool.fnir),
                "fpir_over_target": None if fpir is None else fpir / plan.target_fpir,
                "fpir_over_target_per_split": {
                    "median": float(np.median(pool.ratios)),
                    "min": min(pool.ratios),
                    "max": max(pool.ratios),
                    "values": pool.ratios,
                },
                "oracle_at_target": None
                if oracle is None
                else {"threshold": oracle.threshold, "fnir": _rate(oracle.fnir), "fpir": _rate(oracle.fpir)},
                "fnir_gap": None if oracle is None or fnir is None else fnir - (oracle.fnir.value or 0.0),
            }
        )
    return {
        "target_fpir": plan.target_fpir,
        "splits": plan.splits,
        "draws_per_split_direction": plan.draws,
        "mated_cap": plan.mated_cap,
        "seed": plan.seed,
        "calibrations": records,
        "rows": rows,
        "skipped": [{"photos_per_person": k, "gallery_size": n} for k, n in sorted(skipped - set(pools))],
        "interval": "Wilson score, 95% (searches repeat photos across draws: read the per-split spread too)",
        "people": len(identities),
        "photos": sum(len(paths) for paths in identities.values()),
        "no_vector": sum(v is None for v in images.vectors.values()),
    }
