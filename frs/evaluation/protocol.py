"""The open-set protocol of ``frs eval`` and ``frs calibrate --check``: who is enrolled with which photos, and
who searches.

For a gallery of ``N`` people enrolled with ``k`` photos each (default 1), a *draw* enrols ``N`` identities
chosen at random among those with at least ``k + 1`` photos (the *candidates*), each with ``k`` random photos
of theirs, as long as at least half of the candidates stay out of the gallery; past that, the rest of the
gallery are people with fewer photos (enrolled with the photos they have: a real gallery holds people nobody
searches for), so strangers of every kind remain. The other photos of enrolled people are the **mated**
probes (at most ``mated_cap`` a person, chosen at random: a few people with hundreds of photos must not
dominate FNIR); every photo of everyone not enrolled is a **non-mated** probe. Several seeded draws per
gallery size average over who happens to be enrolled. The draws depend only on the folder tree and the seed,
never on the system measured, so FRS and a peer face the same searches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frs.errors import FRSError

#: What ``--gallery-sizes`` accepts besides numbers: as many people as have two or more photos.
ALL = "all"
DEFAULT_GALLERY_SIZES: tuple[int | str, ...] = (10, 30, 100, 300, 1000)
DEFAULT_DRAWS = 10
#: Mated searches a person contributes at most, by default.
DEFAULT_MATED_CAP = 10


@dataclass(frozen=True)
class GalleryDraw:
    gallery_size: int
    draw: int
    enrolled: tuple[tuple[str, Path], ...]  # (identity, an enrolled photo), an identity's photos together
    mated: tuple[tuple[str, Path], ...]  # (identity, photo): other photos of enrolled people (capped)
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


def candidates(identities: Mapping[str, Sequence[Path]], photos: int = 1) -> list[str]:
    """The identities that can be enrolled with ``photos`` photos and still searched for: those with more."""
    return sorted(name for name, paths in identities.items() if len(paths) > photos)


def resolve_gallery_sizes(
    requested: Sequence[int | str], largest: int, everyone: int
) -> tuple[list[int], list[int]]:
    """``(sizes to run, sizes skipped because the dataset cannot hold them)``, in order, without repeats.
    ``largest`` is the largest gallery a draw can make (:func:`largest_gallery`); ``"all"`` is ``everyone``,
    the number of candidates (as many people as can be searched for), when the dataset holds it."""
    run: list[int] = []
    skipped: list[int] = []
    for item in requested:
        size = everyone if item == ALL else int(item)
        target = run if 1 <= size <= largest else skipped
        if size not in target:
            target.append(size)
    return run, skipped


def largest_gallery(identities: Mapping[str, Sequence[Path]], photos: int = 1) -> int:
    """The most people a draw can enrol: half the candidates plus everyone with fewer photos."""
    enrollable = len(candidates(identities, photos))
    return enrollable // 2 + (len(identities) - enrollable) if enrollable > 1 else enrollable


def draw_galleries(
    identities: Mapping[str, Sequence[Path]],
    gallery_size: int,
    draws: int,
    seed: int,
    *,
    photos: int = 1,
    mated_cap: int | None = DEFAULT_MATED_CAP,
    compared_up_to: int | None = None,
) -> list[GalleryDraw]:
    """``draws`` seeded galleries of ``gallery_size`` people with ``photos`` photos each (see the module
    docstring); ``mated_cap`` None: every other photo of an enrolled person searches.

    ``compared_up_to`` (at least ``photos``) lines up runs that enrol different numbers of photos: the
    candidates are people with more than that many photos, and the same draws (people, photos, searches)
    result whatever ``photos`` is, the extra enrolled photos aside. The random stream depends on ``(seed,
    gallery_size, compared_up_to)`` only, so adding a gallery size to a run leaves the draws of the others
    unchanged.
    """
    lined_up = photos if compared_up_to is None else compared_up_to
    if photos < 1 or lined_up < photos:
        raise FRSError("bad_request", f"photos per person must be from 1 to {lined_up}, got {photos}")
    if mated_cap is not None and mated_cap < 1:
        raise FRSError("bad_request", f"the mated cap must be at least 1, got {mated_cap}")
    names = candidates(identities, lined_up)
    others = sorted(set(identities) - set(names))
    largest = largest_gallery(identities, lined_up)
    if not names or not 1 <= gallery_size <= largest:
        raise FRSError(
            "bad_request",
            f"a gallery of {gallery_size} needs at least 2 x {gallery_size} people with {lined_up + 1} or "
            f"more photos, or others to fill it: this dataset can hold {largest}",
        )
    if draws < 1:
        raise FRSError("bad_request", f"draws must be at least 1, got {draws}")
    paths = {name: sorted(items, key=lambda p: p.name) for name, items in identities.items()}
    rng = np.random.default_rng([seed, gallery_size] if lined_up == 1 else [seed, gallery_size, lined_up])
    searched = min(gallery_size, len(names) // 2) if len(names) > 1 else gallery_size
    result = []
    for draw in range(draws):
        chosen = sorted(names[i] for i in rng.choice(len(names), size=searched, replace=False))
        fill = gallery_size - searched
        extra = sorted(others[i] for i in rng.choice(len(others), size=fill, replace=False)) if fill else []
        enrolled: list[tuple[str, Path]] = []
        mated: list[tuple[str, Path]] = []
        for name in sorted([*chosen, *extra]):
            order = rng.permutation(len(paths[name]))
            enrolled.extend((name, paths[name][i]) for i in sorted(order[:photos]))
            rest = order[lined_up:] if mated_cap is None else order[lined_up:][:mated_cap]
            mated.extend((name, paths[name][i]) for i in sorted(rest))
        taken = set(chosen) | set(extra)
        nonmated = [path for name in sorted(paths) if name not in taken for path in paths[name]]
        result.append(GalleryDraw(gallery_size, draw, tuple(enrolled), tuple(mated), tuple(nonmated)))
    return result
