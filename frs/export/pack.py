"""Write an exported recognizer as an FRS model pack: ``<models_dir>/<name>.json`` + ``<models_dir>/<name>/``.

Torch-free. The ONNX file goes in first and the manifest last, each by an atomic rename, so a pack whose
manifest is visible is always complete.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from frs.errors import FRSError
from frs.export.spec import INPUT_SIZE, CheckpointFormat
from frs.packs.manifest import known_packs, load_manifest

RECOGNIZER_FILE = "recognizer.onnx"
DEFAULT_MATCH_THRESHOLD = 0.3
DEFAULT_LICENCE = (
    "Unstated: exported from a user-supplied checkpoint; the licence of those weights applies "
    "(the published ArcFace and AdaFace weights are for non-commercial research)."
)
_PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def validate_pack_name(name: str) -> None:
    """Pack names become file names: lower-case letters, digits, '-' and '_' only."""
    if not _PACK_NAME.match(name):
        raise FRSError(
            "bad_request",
            f"invalid pack name {name!r}: use 1-64 of a-z, 0-9, '-', '_' (starting alphanumeric)",
        )


def ensure_free(name: str, models_dir: Path, force: bool) -> None:
    """Refuse to shadow or overwrite an existing pack unless ``force``."""
    if force:
        return
    if name in known_packs(models_dir) or (models_dir / name).exists():
        raise FRSError(
            "conflict", f"pack {name!r} already exists (in {models_dir}); pass --force to replace it"
        )


def check_detector_pack(detector: str, models_dir: Path) -> None:
    """The pack whose detector the new pack borrows must exist and have a readable manifest."""
    try:
        load_manifest(detector, models_dir)
    except FRSError as exc:
        raise FRSError("bad_request", f"--detector {detector}: {exc.message}") from exc


def build_manifest(
    *,
    name: str,
    checkpoint_format: CheckpointFormat,
    arch: str,
    dim: int,
    sha256: str,
    detector: str,
    licence: str,
    match_threshold: float,
    description: str | None = None,
) -> dict[str, Any]:
    """The pack manifest for an exported recognizer that borrows ``detector``'s detector."""
    prep = checkpoint_format.preprocessing
    return {
        "name": name,
        "description": description
        or f"{checkpoint_format.title} {arch} ({dim}-d), exported from a PyTorch checkpoint; "
        f"detector from pack {detector!r}.",
        "licence": licence,
        "artifacts": {},
        "detector": {"from_pack": detector},
        "recognizer": {
            "file": RECOGNIZER_FILE,
            "sha256": sha256,
            "kind": checkpoint_format.name,
            "input_size": [INPUT_SIZE, INPUT_SIZE],
            "mean": list(prep.mean),
            "std": list(prep.std),
            "color": prep.color,
            "dim": dim,
            "match_threshold": match_threshold,
            "licence": licence,
        },
    }


def install_pack(models_dir: Path, name: str, onnx_file: Path, manifest: dict[str, Any]) -> Path:
    """Move ``onnx_file`` into the pack's directory, then write its manifest; returns the manifest path.

    ``onnx_file`` must be on the same filesystem as ``models_dir`` (the exporter stages it there).
    """
    pack_dir = models_dir / name
    pack_dir.mkdir(parents=True, exist_ok=True)
    os.replace(onnx_file, pack_dir / RECOGNIZER_FILE)
    manifest_path = models_dir / f"{name}.json"
    staged = manifest_path.with_name(f".{name}.json.tmp")
    staged.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(staged, manifest_path)
    return manifest_path
