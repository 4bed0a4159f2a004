"""The runner with the real analyzer on the test photos, wired the way ``frs eval`` wires it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from frs.config import Settings
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.protocol import draw_galleries
from frs.evaluation.runner import Protocol, evaluate_dataset
from frs.evaluation.systems import frs_system
from frs.pipeline.analyzer import load_analyzer
from tests.support.photo_tree import PEOPLE, copy_tree

LAYOUT = {
    **PEOPLE,
    "y/1.jpg": "impostor_2.jpg",
    "newton/1.png": "newton.png",
    "solvay/1.jpg": "solvay_conference_1927.jpg",
}


@pytest.fixture
def photo_tree(tmp_path: Path, testdata: Path) -> Path:
    copy_tree(tmp_path, testdata, LAYOUT)
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(blank, format="PNG")
    (tmp_path / "a/3_blank.png").write_bytes(blank.getvalue())
    (tmp_path / "b/3_broken.jpg").write_bytes(b"not an image at all")
    return tmp_path


def test_real_analyzer_through_the_runner(photo_tree: Path, settings: Settings) -> None:
    analyzer = load_analyzer(settings)
    system = frs_system(
        analyzer, target_fpir=0.01, target_far=1e-3, explicit_threshold=None, calibration=None
    )
    result = evaluate_dataset(
        photo_tree, [system], protocol=Protocol(gallery_sizes=(1,), draws=3), progress=False
    )
    (measured,) = result.systems
    issues = measured.images.issues
    assert issues.multiple_faces == ["solvay/1.jpg"]
    assert issues.no_face == ["a/3_blank.png"]
    assert [(f["path"], f["code"]) for f in issues.failed] == [("b/3_broken.jpg", "invalid_image")]

    assert measured.identification is not None
    (one,) = measured.identification
    assert one.gallery_size == 1  # a or b: the people with two or more photos
    # Each draw enrols a or b with one of their 3 photos; the other 2 search, every other photo is a stranger.
    # A blank or broken photo searching is a miss; enrolling it leaves that person's other photos without a
    # mate.
    draws = draw_galleries(scan_dataset(photo_tree), 1, draws=3, seed=0)
    assert one.scores.mated.size == 3 * 2
    assert one.scores.nonmated.size == sum(len(draw.nonmated) for draw in draws)
    at = one.at_point
    assert at.fpir.count == 0  # the other of a and b, x, y, newton and a Solvay face are nobody enrolled
    assert at.named_wrongly == 0
    unusable = {"3_blank.png", "3_broken.jpg"}
    expected = sum(2 if path.name in unusable else 1 for draw in draws for _, path in draw.enrolled)
    assert at.fnir.count == expected

    verification = measured.verification
    assert verification is not None
    assert verification.roc.n_genuine == 3 + 3
    assert verification.failed_pairs["genuine"] == 4  # each unusable photo with its two siblings
    tar, _ = verification.at_point
    assert tar.count == 2  # a1-a2 and b1-b2 are the same people and score above the pack threshold
