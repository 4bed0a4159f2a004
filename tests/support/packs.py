"""A copy of the embedded pack under another name, in a models directory of a test's own (the weights are
symlinked): for manifests a test changes, such as its calibration record."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from frs.config import REPO_ROOT, Settings


def embedded_copy(
    settings: Settings, directory: Path, name: str, calibration: dict[str, Any] | None
) -> Settings:
    """``settings`` on pack ``name`` in ``directory``: the embedded pack with ``calibration`` (None: none)."""
    manifest = json.loads((REPO_ROOT / "models" / "embedded.json").read_text())
    manifest["name"] = name
    manifest.pop("calibration", None)
    if calibration is not None:
        manifest["calibration"] = {**calibration, "pack": name}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (directory / name).mkdir()
    for role in ("detector", "recognizer"):
        weights = manifest[role]["file"]
        (directory / name / weights).symlink_to(settings.models_dir / "embedded" / weights)
    return dataclasses.replace(settings, pack=name, models_dir=directory)
