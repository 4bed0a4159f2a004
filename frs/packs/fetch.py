"""``frs models fetch``: put a pack's model files on disk, verified, repaired where the manifest asks.

Where the manifest ships a licence text for a file, it is installed beside the weights: the weights and their
notice travel together, into the container image too."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from frs.errors import FRSError
from frs.packs.artifacts import fetch_artifact, read_member, sha256_of, write_atomically
from frs.packs.manifest import ModelFile, PackManifest, licence_path, load_manifest, weight_path
from frs.packs.onnx_repair import repair_model


@dataclass(frozen=True)
class FileStatus:
    role: str
    path: Path
    present: bool
    licence: str
    licence_file: Path | None  # the licence text installed next to the weights, if the manifest ships one


def _licence_copy(weights: Path) -> Path:
    return weights.with_name(weights.name + ".LICENCE.txt")


def _install_licence(manifest: PackManifest, spec: ModelFile, weights: Path) -> None:
    source = licence_path(manifest, spec)
    if source is None:
        return
    if not source.is_file():
        raise FRSError(
            "model_unavailable",
            f"{manifest.path}: licence text {source} for {spec.file} is missing; the weights are not "
            "installed without it",
        )
    write_atomically(_licence_copy(weights), source.read_bytes())


def _fetch_model_file(
    manifest: PackManifest, spec: ModelFile, models_dir: Path, cache_dir: Path, allow_unpinned: bool
) -> Path:
    target = weight_path(manifest, spec, models_dir)
    _install_licence(manifest, spec, target)
    if target.is_file():
        return target
    if spec.artifact is None or spec.member is None:
        raise FRSError("model_unavailable", f"{target} is missing and the manifest names no source for it")
    archive = fetch_artifact(manifest.artifacts[spec.artifact], cache_dir, allow_unpinned=allow_unpinned)
    data = read_member(archive, spec.member)
    if spec.sha256 is not None:
        from hashlib import sha256

        actual = sha256(data).hexdigest()
        if actual != spec.sha256:
            raise FRSError("model_unavailable", f"{spec.member}: sha256 {actual} != pinned {spec.sha256}")
    if spec.repair:
        data, stats = repair_model(data, spec.repair)
        print(f"repaired {spec.file}: {stats}", file=sys.stderr)
    write_atomically(target, data)
    return target


def fetch_pack(name: str, models_dir: Path, cache_dir: Path, *, allow_unpinned: bool = False) -> list[Path]:
    """Fetch every file of pack ``name`` that is not on disk yet; return their paths."""
    manifest = load_manifest(name, models_dir)
    if manifest.detector.from_pack:
        fetch_pack(manifest.detector.from_pack, models_dir, cache_dir, allow_unpinned=allow_unpinned)
    paths = []
    for spec in manifest.model_files:
        if spec.from_pack:
            paths.append(weight_path(manifest, spec, models_dir))
            continue
        paths.append(_fetch_model_file(manifest, spec, models_dir, cache_dir, allow_unpinned))
    record = {p.name: sha256_of(p) for p in paths}
    write_atomically(models_dir / manifest.name / "fetched.json", json.dumps(record, indent=2).encode())
    return paths


def pack_status(name: str, models_dir: Path) -> list[FileStatus]:
    manifest = load_manifest(name, models_dir)
    statuses = []
    for role, spec in manifest.roles:
        path = weight_path(manifest, spec, models_dir)
        text = _licence_copy(path) if spec.licence_file else None
        statuses.append(FileStatus(role, path, path.is_file(), spec.licence, text))
    return statuses
