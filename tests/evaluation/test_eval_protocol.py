"""The open-set protocol: who is enrolled with which photo, who searches, and that it is seeded."""

from __future__ import annotations

from pathlib import Path

import pytest

from frs.errors import FRSError
from frs.evaluation.protocol import draw_galleries, parse_gallery_sizes, resolve_gallery_sizes

# Four people with 2-3 photos, three with one.
IDENTITIES = {
    "ann": [Path("ann/2.jpg"), Path("ann/1.jpg")],
    "bob": [Path("bob/1.jpg"), Path("bob/2.jpg"), Path("bob/3.jpg")],
    "cat": [Path("cat/1.jpg"), Path("cat/2.jpg")],
    "dan": [Path("dan/1.jpg"), Path("dan/2.jpg")],
    "eve": [Path("eve/1.jpg")],
    "fay": [Path("fay/1.jpg")],
    "gus": [Path("gus/1.jpg")],
}
EVERY_PHOTO = {path for paths in IDENTITIES.values() for path in paths}


def test_each_draw_splits_every_photo_into_enrolled_mated_and_nonmated() -> None:
    for draw in draw_galleries(IDENTITIES, 2, draws=5, seed=0):
        enrolled = dict(draw.enrolled)
        assert len(enrolled) == 2 and set(enrolled) <= {"ann", "bob", "cat", "dan"}
        mated = {path for _, path in draw.mated}
        assert {name for name, _ in draw.mated} == set(enrolled)
        assert set(enrolled.values()) | mated | set(draw.nonmated) == EVERY_PHOTO
        assert len(enrolled) + len(draw.mated) + len(draw.nonmated) == len(EVERY_PHOTO)  # disjoint
        assert all(path.parts[0] not in enrolled for path in draw.nonmated)
        assert all(path.parts[0] == name for name, path in [*draw.enrolled, *draw.mated])


def test_draws_are_seeded_and_vary() -> None:
    first = draw_galleries(IDENTITIES, 2, draws=8, seed=4)
    assert first == draw_galleries(IDENTITIES, 2, draws=8, seed=4)
    assert len({draw.enrolled for draw in first}) > 1
    assert first != draw_galleries(IDENTITIES, 2, draws=8, seed=5)


def test_a_gallery_of_everyone_varies_the_enrolled_photo_only() -> None:
    draws = draw_galleries(IDENTITIES, 4, draws=10, seed=0)
    assert all({name for name, _ in d.enrolled} == {"ann", "bob", "cat", "dan"} for d in draws)
    assert all(set(d.nonmated) == {Path("eve/1.jpg"), Path("fay/1.jpg"), Path("gus/1.jpg")} for d in draws)
    assert len({d.enrolled for d in draws}) > 1


def test_gallery_sizes_parse_and_resolve() -> None:
    assert parse_gallery_sizes("10, 30,ALL") == (10, 30, "all")
    assert resolve_gallery_sizes((10, 2, "all", 4), available=4) == ([2, 4], [10])


@pytest.mark.parametrize("text", ["", "ten", "0", "-3", "5,,6"])
def test_bad_gallery_sizes_are_refused(text: str) -> None:
    with pytest.raises(FRSError) as caught:
        parse_gallery_sizes(text)
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize(("size", "draws"), [(5, 1), (0, 1), (2, 0)])
def test_impossible_draws_are_refused(size: int, draws: int) -> None:
    with pytest.raises(FRSError):
        draw_galleries(IDENTITIES, size, draws=draws, seed=0)
