"""The open-set protocol of ``frs eval``: which people are enrolled with which photo, and who searches.

For a gallery of ``N`` people, a *draw* enrols ``N`` identities chosen at random among those with at least
two photos, each with one random photo of theirs. The other photos of enrolled people are the **mated**
probes; every photo of everyone not enrolled (the other multi-photo people and all single-photo people) is a
**non-mated** probe. Several seeded draws per gallery size average over who happens to be enrolled. The draws
depend only on the folder tree and the seed, never on the system measured, so FRS and a peer face the same
searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frs.errors import FRSError

#: What ``--gallery-sizes`` accepts besides numbers: every identity with two or more photos.
ALL = "all"
DEFAULT_GALLERY_SIZES: tuple[int | str, ...] = (10, 30, 50, ALL)
DEFAULT_DRAWS = 10


@dataclass(frozen=True)
class GalleryDraw:
    gallery_size: int
    draw: int
    enrolled: tuple[tuple[str, Path], ...]  # (identity, its enrolled photo), in gallery column order
    mated: tuple[tuple[str, Path], ...]  # (identity, photo): the other photos of enrolled people
    nonmated: tuple[Path, ...]  # every photo of the people not enrolled


def parse_gallery_sizes(text: str) -> tuple[int | str, ...]:
    """``"10,30,all"`` -> ``(10, 30, "all")``; sizes must be positive."""
    sizes: list[int | str] = []
    for raw in text.split(","):
        item = raw.strip().lower()
        if item == ALL:
            sizes.append(ALL)
            continue
        try:
            size = int(item)
        except ValueError:
            raise FRSError(
                "bad_request", f"gallery sizes are positive integers or 'all', got {raw!r}"
            ) from None
        if size < 1:
            raise FRSError("bad_request", f"a gallery size must be at least 1, got {size}")
        sizes.append(size)
    if not sizes:
        raise FRSError("bad_request", "give at least one gallery size")
    return tuple(sizes)


def candidates(identities: Mapping[str, Sequence[Path]]) -> list[str]:
    """The identities that can be enrolled: those with two or more photos (one to enrol, one to search)."""
    return sorted(name for name, photos in identities.items() if len(photos) >= 2)


def resolve_gallery_sizes(requested: Sequence[int | str], available: int) -> tuple[list[int], list[int]]:
    """``(sizes to run, sizes skipped because fewer than that many identities have two photos)``, in order,
    without repeats; ``"all"`` is ``available``."""
    run: list[int] = []
    skipped: list[int] = []
    for item in requested:
        size = available if item == ALL else int(item)
        target = run if 1 <= size <= available else skipped
        if size not in target:
            target.append(size)
    return run, skipped


def draw_galleries(
    identities: Mapping[str, Sequence[Path]], gallery_size: int, draws: int, seed: int
) -> list[GalleryDraw]:
    """``draws`` seeded galleries of ``gallery_size`` people (see the module docstring).

    The random stream depends on ``(seed, gallery_size)`` only, so adding a gallery size to a run leaves the
    draws of the others unchanged.
    """
    names = candidates(identities)
    if not 1 <= gallery_size <= len(names):
        raise FRSError(
            "bad_request",
            f"a gallery of {gallery_size} needs as many identities with two photos; found {len(names)}",
        )
    if draws < 1:
        raise FRSError("bad_request", f"draws must be at least 1, got {draws}")
    photos = {name: sorted(paths, key=lambda p: p.name) for name, paths in identities.items()}
    rng = np.random.default_rng([seed, gallery_size])
    result = []
    for draw in range(draws):
        chosen = sorted(names[i] for i in rng.choice(len(names), size=gallery_size, replace=False))
        enrolled: list[tuple[str, Path]] = []
        mated: list[tuple[str, Path]] = []
        for name in chosen:
            pick = int(rng.integers(len(photos[name])))
            enrolled.append((name, photos[name][pick]))
            mated.extend((name, path) for index, path in enumerate(photos[name]) if index != pick)
        chosen_set = set(chosen)
        nonmated = [path for name in sorted(photos) if name not in chosen_set for path in photos[name]]
        result.append(GalleryDraw(gallery_size, draw, tuple(enrolled), tuple(mated), tuple(nonmated)))
    return result
