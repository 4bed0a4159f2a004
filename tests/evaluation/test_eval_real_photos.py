"""The runner with the real embedded-pack analyzer on the test photos (the way ``frs eval`` wires it)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from frs.config import Settings
from frs.evaluation.runner import evaluate_dataset
from frs.pipeline.analyzer import load_analyzer

LAYOUT = {
    "a/1.jpg": "person_a_1.jpg",
    "a/2.jpg": "person_a_2.jpg",
    "b/1.jpg": "person_b_1.jpg",
    "b/2.jpg": "person_b_2.jpg",
    "x/1.jpg": "impostor_1.jpg",
    "y/1.jpg": "impostor_2.jpg",
    "newton/1.png": "newton.png",
    "solvay/1.jpg": "solvay_conference_1927.jpg",
}


@pytest.fixture
def photo_tree(tmp_path: Path, testdata: Path) -> Path:
    for target, source in LAYOUT.items():
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(testdata / source, tmp_path / target)
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(blank, format="PNG")
    (tmp_path / "a/3_blank.png").write_bytes(blank.getvalue())
    (tmp_path / "b/3_broken.jpg").write_bytes(b"not an image at all")
    return tmp_path


def test_real_analyzer_through_the_runner(photo_tree: Path, settings: Settings) -> None:
    analyzer = load_analyzer(settings)
    result = evaluate_dataset(
        photo_tree,
        lambda path: analyzer.analyze(path.read_bytes()).faces,
        unknown_share=0.0,
        threshold=analyzer.match_threshold,
        progress=False,
        pack=analyzer.pack,
    )
    assert result.issues.multiple_faces == ["solvay/1.jpg"]
    assert result.issues.no_face == ["a/3_blank.png"]
    assert [(f["path"], f["code"]) for f in result.issues.failed] == [("b/3_broken.jpg", "invalid_image")]

    ident = result.identification
    assert ident is not None
    assert (ident.n_gallery_identities, ident.n_known_probes, ident.n_unknown_probes) == (6, 2, 0)
    assert ident.top1 == 1.0  # a/2 finds a, b/2 finds b among six identities
    assert ident.open_set.recall == 1.0

    verification = result.verification
    assert verification is not None
    assert (verification.roc.n_genuine, verification.roc.n_impostor) == (2, 28 - 2)
    assert verification.at_threshold.tar == 1.0
    assert result.to_dict()["pack"] == {"name": analyzer.pack.name, "dim": analyzer.pack.dim}
