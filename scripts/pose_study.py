"""Issue 20 item 3: how turned heads fare, on an identity-per-folder dataset (lfw-dev), for each pack.

Every photo is analysed once per pack with the detection threshold lowered to ``--floor`` (so faces just
under a pack's threshold are seen); the largest face counts. A photo's yaw is the one the *reference* pack
(the first given, SCRFD's ``embedded`` by default) estimates from its landmarks, so every pack is binned on
the same photos. Per yaw bin and pack: photos, faces found at the pack's own threshold, found only below it
(what a lower threshold would win), the median detection score, faces flagged ``EXTREME_POSE`` (medium
filter), and FNIR at FPIR 1% of the mated searches in the bin (one gallery of ``--gallery`` people, one photo
each, drawn at random; every other photo of an enrolled person searches; photos of people not enrolled search
as strangers and set the threshold). Long (about 4 minutes per pack): run it by hand, never in tests.

    .venv/bin/python scripts/pose_study.py ../shared/datasets/lfw-dev --out out/pose.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.errors import FRSError
from frs.evaluation.dataset import scan_dataset
from frs.pipeline.analyzer import load_analyzer
from frs.pipeline.quality import EXTREME_POSE

BINS = ((0, 15), (15, 30), (30, 45), (45, 60), (60, 181))
Row = dict[str, Any]


def analyse(pack: str, paths: list[Path], floor: float) -> dict[Path, Row]:
    settings = dataclasses.replace(Settings.from_env(), pack=pack, det_threshold=floor)
    analyzer = load_analyzer(settings)
    threshold = float(load_analyzer(dataclasses.replace(settings, det_threshold=None)).det_threshold)
    rows: dict[Path, Row] = {}
    for path in tqdm(paths, desc=pack, unit="img"):
        try:
            faces = analyzer.analyze(path.read_bytes()).faces
        except FRSError:
            faces = []
        if not faces:
            rows[path] = {"found": False, "below": False}
            continue
        face = max(faces, key=lambda f: f.area)
        rows[path] = {
            "found": face.score >= threshold,
            "below": face.score < threshold,
            "score": float(face.score),
            "yaw": float(face.quality.pose.yaw),
            "extreme": EXTREME_POSE in face.quality.issues,
            "embedding": face.embedding,
        }
    return rows


def fnir_by_bin(
    people: dict[str, list[Path]], rows: dict[Path, Row], yaw: dict[Path, float], size: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    repeat = [name for name, photos in people.items() if len(photos) > 1]
    single = [name for name, photos in people.items() if len(photos) == 1]
    enrolled = rng.sample(repeat, min(size, len(repeat)))
    enrolled += rng.sample(single, max(0, size - len(enrolled)))
    strangers = [name for name in people if name not in set(enrolled)]
    gallery: list[npt.NDArray[np.float32]] = []
    owners: list[str] = []
    mated: list[tuple[Path, str]] = []
    for name in enrolled:
        first, *others = people[name]
        vector = rows[first].get("embedding")
        if vector is not None and rows[first]["found"]:
            gallery.append(vector)
            owners.append(name)
        mated += [(p, name) for p in others]
    matrix = np.stack(gallery)

    def best(path: Path) -> tuple[float, str | None]:
        row = rows[path]
        if not row["found"] or row.get("embedding") is None:
            return -1.0, None
        scores = matrix @ row["embedding"]
        top = int(np.argmax(scores))
        return float(scores[top]), owners[top]

    stranger_scores = sorted((best(p)[0] for n in strangers for p in people[n]), reverse=True)
    threshold = stranger_scores[int(0.01 * len(stranger_scores))]
    out: dict[str, Any] = {"threshold": threshold, "strangers": len(stranger_scores), "bins": {}}
    for low, high in BINS:
        searches = [(p, n) for p, n in mated if p in yaw and low <= abs(yaw[p]) < high]
        misses = 0
        for path, name in searches:
            score, who = best(path)
            misses += not (who == name and score > threshold)
        out["bins"][f"{low}-{high}"] = {"searches": len(searches), "misses": misses}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--packs", nargs="+", default=["embedded", "open"], help="first: the yaw reference")
    parser.add_argument("--floor", type=float, default=0.3, help="detection threshold of the look (0.3)")
    parser.add_argument("--gallery", type=int, default=1000, help="people enrolled (1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    people = {name: list(photos) for name, photos in scan_dataset(args.dataset).items()}
    paths = [p for photos in people.values() for p in photos]
    results = {pack: analyse(pack, paths, args.floor) for pack in args.packs}
    reference = results[args.packs[0]]
    yaw = {p: row["yaw"] for p, row in reference.items() if "yaw" in row}
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "photos": len(paths),
        "command": " ".join(sys.argv),
    }
    for pack, rows in results.items():
        per_bin = {}
        for low, high in BINS:
            inside = [rows[p] for p in paths if p in yaw and low <= abs(yaw[p]) < high]
            scores = [r["score"] for r in inside if "score" in r]
            per_bin[f"{low}-{high}"] = {
                "photos": len(inside),
                "found": sum(r["found"] for r in inside),
                "found_only_below_threshold": sum(r["below"] for r in inside),
                "median_score": float(np.median(scores)) if scores else None,
                "extreme_pose": sum(bool(r.get("extreme")) and r["found"] for r in inside),
            }
        report[pack] = {
            "no_face_at_threshold": sum(not r["found"] for r in rows.values()),
            "no_face_at_floor": sum("score" not in r for r in rows.values()),
            "bins": per_bin,
            "fnir_at_fpir_1pct": fnir_by_bin(people, rows, yaw, args.gallery, args.seed),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items()}, indent=1))


if __name__ == "__main__":
    main()
