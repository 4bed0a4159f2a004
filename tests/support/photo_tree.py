"""Small DATASET/<identity>/<photo> trees made of the pinned test photos, for eval tests."""

from __future__ import annotations

import shutil
from pathlib import Path

#: Two people with two photos each, and one stranger.
PEOPLE = {
    "a/1.jpg": "person_a_1.jpg",
    "a/2.jpg": "person_a_2.jpg",
    "b/1.jpg": "person_b_1.jpg",
    "b/2.jpg": "person_b_2.jpg",
    "x/1.jpg": "impostor_1.jpg",
}


def copy_tree(root: Path, testdata: Path, layout: dict[str, str]) -> Path:
    """``layout`` maps paths under ``root`` to test photo names; returns ``root``."""
    for target, source in layout.items():
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(testdata / source, root / target)
    return root
