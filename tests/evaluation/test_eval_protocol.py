"""The open-set protocol: who is enrolled with which photo, who searches, and that it is seeded."""

from __future__ import annotations

from pathlib import Path

import pytest

from frs.errors import FRSError
from frs.evaluation.protocol import (
    draw_galleries,
    largest_gallery,
    parse_gallery_sizes,
    resolve_gallery_sizes,
)

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


def test_past_half_the_candidates_the_gallery_fills_with_people_nobody_searches_for() -> None:
    # 4 candidates: at most 2 of them enrolled, so 2 stay strangers; the other 2 enrolled have one photo.
    assert largest_gallery(IDENTITIES) == 2 + 3
    for draw in draw_galleries(IDENTITIES, 4, draws=10, seed=0):
        enrolled = {name for name, _ in draw.enrolled}
        assert len(enrolled & {"ann", "bob", "cat", "dan"}) == 2
        assert len(enrolled & {"eve", "fay", "gus"}) == 2
        assert {name for name, _ in draw.mated} <= {"ann", "bob", "cat", "dan"}
        strangers = {path.parts[0] for path in draw.nonmated}
        assert len(strangers & {"ann", "bob", "cat", "dan"}) == 2  # strangers of both kinds remain


def test_the_mated_cap_bounds_the_searches_of_one_person() -> None:
    many = {**IDENTITIES, "zed": [Path(f"zed/{i}.jpg") for i in range(30)]}
    for draw in draw_galleries(many, 2, draws=20, seed=1, mated_cap=3):
        counts = {name: sum(1 for n, _ in draw.mated if n == name) for name, _ in draw.enrolled}
        assert max(counts.values()) <= 3
        if "zed" in counts:
            assert counts["zed"] == 3
            # capped photos are neither searches nor strangers
            assert not any(path.parts[0] == "zed" for path in draw.nonmated)
    uncapped = draw_galleries(many, 2, draws=20, seed=1, mated_cap=None)
    assert any(sum(1 for n, _ in d.mated if n == "zed") == 29 for d in uncapped)


def test_several_photos_per_person_line_up_with_one() -> None:
    one = draw_galleries(IDENTITIES, 1, draws=6, seed=2, photos=1, compared_up_to=2)
    two = draw_galleries(IDENTITIES, 1, draws=6, seed=2, photos=2, compared_up_to=2)
    for a, b in zip(one, two, strict=True):
        assert {n for n, _ in a.enrolled} == {n for n, _ in b.enrolled} == {"bob"}  # only bob has 3 photos
        assert a.mated == b.mated and a.nonmated == b.nonmated
        assert set(a.enrolled) < set(b.enrolled) and len(b.enrolled) == 2
    with pytest.raises(FRSError):
        draw_galleries(IDENTITIES, 1, draws=1, seed=0, photos=3, compared_up_to=2)


def test_gallery_sizes_parse_and_resolve() -> None:
    assert parse_gallery_sizes("10, 30,ALL") == (10, 30, "all")
    assert resolve_gallery_sizes((10, 2, "all", 4), largest=5, everyone=4) == ([2, 4], [10])
    assert resolve_gallery_sizes(("all",), largest=3, everyone=4) == ([], [4])


@pytest.mark.parametrize("text", ["", "ten", "0", "-3", "5,,6"])
def test_bad_gallery_sizes_are_refused(text: str) -> None:
    with pytest.raises(FRSError) as caught:
        parse_gallery_sizes(text)
    assert caught.value.code == "bad_request"


@pytest.mark.parametrize(("size", "draws"), [(6, 1), (0, 1), (2, 0)])
def test_impossible_draws_are_refused(size: int, draws: int) -> None:
    with pytest.raises(FRSError):
        draw_galleries(IDENTITIES, size, draws=draws, seed=0)
