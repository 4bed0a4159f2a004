"""Faces found, FNIR and FPIR on degraded copies, with and without the illumination step.

The protocol (all seeded, so every condition and mode faces the same searches):

- the people are split in two halves (:func:`frs.evaluation.heldout.split_people`); only the *test* half is
  used, so a calibration made from the other half never saw them (the shipped calibration of a pack fitted on
  the whole dataset did: the figures then compare conditions, not the calibration's honesty);
- for each gallery size ``N``, one draw of :func:`frs.evaluation.protocol.draw_galleries` on the test half:
  ``N`` people enrolled with one **clean** photo each; one other photo of each enrolled person searches
  (mated), and ``strangers`` photos of people not enrolled, chosen at random, search as strangers;
- every search photo is degraded by the condition (:mod:`.conditions`), strangers included, and searched at
  the default operating point: the threshold the pack's calibration gives for ``target_fpir`` and ``N``
  enrolled faces; the largest face of a photo counts.

FNIR counts a mated search that does not name its person (no face found, another person ranked first, or a
score below the threshold); FPIR counts a stranger named as anyone. With the step in ``detect`` mode a photo
changes only when the first pass found nothing, so the "after" run re-analyses only those photos.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.evaluation.degraded.conditions import Condition, degrade
from frs.evaluation.heldout import split_people
from frs.evaluation.protocol import draw_galleries
from frs.evaluation.rates import wilson_interval

SCHEMA = "frs-degraded/1"
Vector = npt.NDArray[np.float32]
#: Photo bytes -> the largest face's embedding, or None when no face is found.
EmbedFn = Callable[[bytes], Vector | None]
Identities = Mapping[str, Sequence[Path]]


@dataclass(frozen=True)
class Plan:
    gallery_sizes: tuple[int, ...] = (100, 1000)
    strangers: int = 200
    target_fpir: float = 0.01
    seed: int = 0


@dataclass(frozen=True)
class Searches:
    """One gallery size's searches: the enrolled photos and who searches."""

    gallery_size: int
    enrolled: tuple[tuple[str, Path], ...]
    mated: tuple[tuple[str, Path], ...]
    strangers: tuple[Path, ...]


def plan_searches(identities: Identities, plan: Plan) -> list[Searches]:
    """The searches of every gallery size, on the test half of the people."""
    _, test = split_people(identities, plan.seed)
    people = {name: identities[name] for name in sorted(test)}
    result = []
    for size in plan.gallery_sizes:
        draw = draw_galleries(people, size, 1, plan.seed, mated_cap=1)[0]
        rng = np.random.default_rng([plan.seed, size, 31])
        count = min(plan.strangers, len(draw.nonmated))
        picked = sorted(int(i) for i in rng.choice(len(draw.nonmated), size=count, replace=False))
        result.append(Searches(size, draw.enrolled, draw.mated, tuple(draw.nonmated[i] for i in picked)))
    return result


def _rate(count: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(count, n) if n else (0.0, 1.0)
    return {"count": count, "n": n, "rate": count / n if n else None, "ci95": [low, high]}


class ProbeCache:
    """Embeddings of degraded probes per (condition, mode), each photo analysed once."""

    def __init__(self, embed: Mapping[str, EmbedFn], retry_modes: Sequence[str] = ()) -> None:
        self.embed = embed  # mode -> embed function
        self.retry_modes = set(retry_modes)  # modes that differ from the first only where it found nothing
        self.first = next(iter(embed))
        self.vectors: dict[tuple[str, str, Path], Vector | None] = {}

    def get(self, condition: Condition, mode: str, path: Path) -> Vector | None:
        key = (condition.name, mode, path)
        if key not in self.vectors:
            if mode in self.retry_modes and mode != self.first:
                base = self.get(condition, self.first, path)
                if base is not None:
                    self.vectors[key] = base
                    return base
            data = degrade(condition, path.read_bytes(), f"{path.parent.name}/{path.name}")
            self.vectors[key] = self.embed[mode](data)
        return self.vectors[key]


def measure(
    searches: Searches,
    gallery: Mapping[Path, Vector | None],
    probes: Callable[[Path], Vector | None],
    threshold: float,
) -> dict[str, Any]:
    """One (condition, mode, gallery size) row: faces found, FNIR and FPIR at ``threshold``."""
    names: list[str] = []
    rows: list[Vector] = []
    for name, path in searches.enrolled:
        vector = gallery.get(path)
        if vector is not None:
            names.append(name)
            rows.append(vector)
    matrix = np.stack(rows) if rows else np.zeros((0, 1), np.float32)
    found = missed = named = 0

    def best(vector: Vector) -> tuple[str | None, float]:
        if not names:
            return None, -np.inf
        scores = matrix @ vector
        top = int(np.argmax(scores))
        return names[top], float(scores[top])

    for person, path in searches.mated:
        vector = probes(path)
        if vector is None:
            missed += 1
            continue
        found += 1
        who, score = best(vector)
        missed += who != person or score < threshold
    for path in searches.strangers:
        vector = probes(path)
        if vector is None:
            continue
        found += 1
        named += best(vector)[1] >= threshold
    searched = len(searches.mated) + len(searches.strangers)
    return {
        "gallery_size": searches.gallery_size,
        "enrolled_with_face": len(names),
        "threshold": round(threshold, 4),
        "faces_found": _rate(found, searched),
        "fnir": _rate(missed, len(searches.mated)),
        "fpir": _rate(named, len(searches.strangers)),
    }


def run_suite(
    identities: Identities,
    conditions: Sequence[Condition],
    embed: Mapping[str, EmbedFn],
    threshold_at: Callable[[float, int], float],
    plan: Plan,
    *,
    retry_modes: Sequence[str] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Every (condition, mode, gallery size) row. ``embed`` maps a mode name (e.g. the illumination step
    ``off`` and ``detect``) to its embed function; the first mode enrols the clean photos."""
    searches = plan_searches(identities, plan)
    first = next(iter(embed))
    gallery: dict[Path, Vector | None] = {}
    for item in searches:
        for _, path in item.enrolled:
            if path not in gallery:
                gallery[path] = embed[first](path.read_bytes())
    progress(f"enrolled {len(gallery)} clean photos")
    cache = ProbeCache(embed, retry_modes)
    rows = []
    for condition in conditions:
        for mode in embed:
            for item in searches:
                threshold = threshold_at(plan.target_fpir, item.gallery_size)

                def probe(path: Path, c: Condition = condition, m: str = mode) -> Vector | None:
                    return cache.get(c, m, path)

                row = measure(item, gallery, probe, threshold)
                rows.append({"condition": condition.name, "mode": mode, **row})
                progress(
                    f"{condition.name} [{mode}] N={item.gallery_size}: found {row['faces_found']['count']}/"
                    f"{row['faces_found']['n']}, FNIR {row['fnir']['count']}/{row['fnir']['n']}, "
                    f"FPIR {row['fpir']['count']}/{row['fpir']['n']}"
                )
    return {
        "schema": SCHEMA,
        "protocol": {
            "gallery_sizes": list(plan.gallery_sizes),
            "strangers": plan.strangers,
            "target_fpir": plan.target_fpir,
            "seed": plan.seed,
            "people": len(identities),
            "mated": {str(s.gallery_size): len(s.mated) for s in searches},
        },
        "modes": list(embed),
        "conditions": [c.name for c in conditions],
        "rows": rows,
    }
