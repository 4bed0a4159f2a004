"""Issue 20's synthetic tight-crop suite: badge crops cut at brow and chin, face boxes with 0-25% margin and
112x112 aligned crops of a dataset's photos, through ``open``, ``embedded`` and face_recognition (dlib).

    .venv/bin/python scripts/tight_crop_check.py DATASET --out docs/report/tight-crops-lfw-dev.json \
        [--people 1000] [--seed 0] [--systems open,embedded,face_recognition]

``frs report --tight-crops FILE`` renders the JSON; ``make bench`` runs it with EVAL_DATASET. The protocol is
``frs.evaluation.tight_crops.suite``'s docstring.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from frs.config import Settings
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.face_recognition_peer import TOLERANCE, import_face_recognition
from frs.evaluation.tight_crops import CROP_KINDS, CropSystem, FoundFace, run_suite, sample_photos
from frs.evaluation.tight_crops.systems import frs_system, png
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer, load_analyzer
from frs.pipeline.quality import FilterLevel

Image = npt.NDArray[np.uint8]


def face_recognition_system() -> CropSystem:
    fr = import_face_recognition()

    def find(rgb: Image) -> Sequence[FoundFace]:
        rgb = np.ascontiguousarray(rgb)
        boxes = fr.face_locations(rgb)  # HOG, one upsampling: the library's defaults
        by_area = sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[1] - b[3]))
        encodings = fr.face_encodings(rgb, by_area)
        return [FoundFace(np.asarray(e, dtype=np.float32), None) for e in encodings]

    return CropSystem("face_recognition", find, lambda a, b: float(np.linalg.norm(a - b)) <= TOLERANCE)


def reference_landmarks(analyzer: FaceAnalyzer):  # type: ignore[no-untyped-def]
    """The face nearest the photo's centre, as SCRFD (with its refinement) places its five landmarks."""

    def find(rgb: Image) -> npt.NDArray[np.float32] | None:
        faces = analyzer.analyze(png(rgb)).faces
        if not faces:
            return None
        height, width = rgb.shape[:2]

        def off_centre(face: AnalyzedFace) -> float:
            x1, y1, x2, y2 = face.bbox
            return float(abs((x1 + x2) / 2 - width / 2) + abs((y1 + y2) / 2 - height / 2))

        return min(faces, key=off_centre).landmarks

    return find


def revision() -> str:
    try:
        command = ["git", "describe", "--always", "--dirty"]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path, help="a folder per identity, photos inside")
    parser.add_argument("--out", type=Path, required=True, help="the JSON to write")
    parser.add_argument("--people", type=int, default=1000, help="people, one photo each (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default="open,embedded,face_recognition")
    args = parser.parse_args()

    identities = scan_dataset(args.dataset)
    if not identities:
        print(f"{args.dataset}: no photos (a folder per identity, photos inside)", file=sys.stderr)
        return 2
    base = Settings.from_env()
    level: FilterLevel = base.add_quality_filter  # type: ignore[assignment]
    analyzers = {p: load_analyzer(dataclasses.replace(base, pack=p)) for p in ("open", "embedded")}
    systems = []
    for name in args.systems.split(","):
        if name in analyzers:
            systems.append(frs_system(name, analyzers[name], level))
        elif name == "face_recognition":
            systems.append(face_recognition_system())
        else:
            print(f"unknown system {name!r}: open, embedded or face_recognition", file=sys.stderr)
            return 2
    paths = sample_photos(identities, args.people, args.seed)
    decode = analyzers["embedded"].decode
    photos = ((path.name, decode(path.read_bytes()).rgb) for path in paths)
    result = run_suite(
        photos,
        CROP_KINDS,
        reference_landmarks(analyzers["embedded"]),
        systems,
        progress=lambda line: print(line, flush=True),
    )
    result["protocol"].update(
        {"people": args.people, "seed": args.seed, "add_quality_filter": level, "reference": "embedded"}
    )
    result["dataset"] = args.dataset.name
    result["revision"] = revision()
    result["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    result["command"] = shlex.join(["scripts/tight_crop_check.py", *sys.argv[1:]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
