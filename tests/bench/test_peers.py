"""The bench peers leave FRS as they found it: loading face_recognition must not make Pillow accept truncated
uploads (the peers' face counts are checked on the quick run in test_run.py).

Checked in a fresh interpreter: in this one face_recognition may already have been imported by another test,
and only its first import flips the switch."""

from __future__ import annotations

import subprocess
import sys

from frs.config import REPO_ROOT

_PROBE = """
import importlib
from PIL import ImageFile
from frs.bench import peers

fr = peers.import_face_recognition()
after_loading = ImageFile.LOAD_TRUNCATED_IMAGES
importlib.reload(importlib.import_module("face_recognition.api"))  # what the library's import does to Pillow
print(after_loading, ImageFile.LOAD_TRUNCATED_IMAGES)
"""


def test_the_bench_loader_undoes_face_recognitions_pillow_switch() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, cwd=REPO_ROOT, timeout=120
    )
    after_loading, after_bare_import = done.stdout.split()[-2:]
    assert after_bare_import == "True"  # the library does flip it, so the first figure means something
    assert after_loading == "False"
