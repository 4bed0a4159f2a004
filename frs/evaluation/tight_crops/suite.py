"""The synthetic tight-crop suite (issue 20): how many frame-filling crops each system finds, and whether the
face it finds is the photo's face.

Protocol (seeded): ``people`` people of a dataset, one photo each. The reference detector (SCRFD, the
``embedded`` pack's, with its landmark refinement) finds the photo's face, the one nearest the centre; every
crop kind of :mod:`.crops` is cut from it, so all systems see the same crops. For each system and crop:

- **found**: at least one face found in the crop;
- **matched**: the largest face found in the crop is the same person as the largest face the same system finds
  on the uncut photo, by the system's own 1:1 decision (FRS: the pack's match threshold; face_recognition:
  its tolerance). Counted out of the crops whose uncut photo gave that system a face;
- **enrolable** (FRS only): the face found passes the enrolment quality filter (``FRS_ADD_QUALITY_FILTER``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.evaluation.rates import Rate
from frs.evaluation.tight_crops.crops import CropKind, Image

SCHEMA = "frs-tight-crops/1"
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FoundFace:
    embedding: Vector
    enrolable: bool | None  # None: the system has no quality filter


@dataclass(frozen=True)
class CropSystem:
    """One system under test: ``find`` gives the faces of an RGB image, largest first; ``same`` is its 1:1
    decision on two of its embeddings."""

    name: str
    find: Callable[[Image], Sequence[FoundFace]]
    same: Callable[[Vector, Vector], bool]


#: An RGB photo -> the reference landmarks (5x2) of its central face, or None when none is found.
ReferenceFn = Callable[[Image], npt.NDArray[np.float32] | None]


def sample_photos(identities: Mapping[str, Sequence[Path]], people: int, seed: int) -> list[Path]:
    """One photo of each of ``people`` people drawn at random (seeded), the photo drawn at random too."""
    rng = random.Random(seed)
    names = sorted(identities)
    rng.shuffle(names)
    return [rng.choice(sorted(identities[name])) for name in names[:people]]


@dataclass
class _Tally:
    crops: int = 0
    found: int = 0
    matched: int = 0
    comparable: int = 0
    enrolable: int = 0
    filtered: int = 0

    def row(self, kind: str, system: str) -> dict[str, Any]:
        row: dict[str, Any] = {
            "kind": kind,
            "system": system,
            "found": Rate(self.found, self.crops).to_dict(),
            "matched": Rate(self.matched, self.comparable).to_dict(),
        }
        if self.filtered:
            row["enrolable"] = Rate(self.enrolable, self.filtered).to_dict()
        return row


def run_suite(
    photos: Iterable[tuple[str, Image]],
    kinds: Sequence[CropKind],
    reference: ReferenceFn,
    systems: Sequence[CropSystem],
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every crop kind of every photo through every system; the rates per (kind, system)."""
    tallies = {(k.name, s.name): _Tally() for k in kinds for s in systems}
    used = skipped = 0
    for index, (name, rgb) in enumerate(photos, start=1):
        landmarks = reference(rgb)
        if landmarks is None:
            skipped += 1
            continue
        used += 1
        uncut = {s.name: s.find(rgb) for s in systems}
        for kind in kinds:
            crop = kind.make(rgb, landmarks)
            if crop is None:
                continue
            for system in systems:
                tally = tallies[(kind.name, system.name)]
                tally.crops += 1
                faces = system.find(crop)
                tally.found += bool(faces)
                if faces and faces[0].enrolable is not None:
                    tally.filtered += 1
                    tally.enrolable += faces[0].enrolable
                full = uncut[system.name]
                if full:
                    tally.comparable += 1
                    tally.matched += bool(faces) and system.same(faces[0].embedding, full[0].embedding)
        if progress is not None and index % 50 == 0:
            progress(f"{index} photos ({name})")
    return {
        "schema": SCHEMA,
        "protocol": {
            "photos": used,
            "photos_without_reference_face": skipped,
            "kinds": {k.name: k.description for k in kinds},
            "systems": [s.name for s in systems],
        },
        "rows": [tallies[(k.name, s.name)].row(k.name, s.name) for k in kinds for s in systems],
    }
