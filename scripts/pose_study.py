"""Issue 20 item 3: how turned heads fare, on an identity-per-folder dataset (lfw-dev), for each pack.

Every photo is analysed once per pack exactly as the service does (the pack's detection threshold, then the
fallback's single face at the manifest's ``fallback_threshold`` where nothing reached it); the face nearest
the centre counts (``--face``, as ``frs eval``). A photo where the service finds nothing is looked at again
with the threshold lowered to ``--floor``, to see what a still lower threshold would win. A photo's yaw is
the one the *reference* pack (the first given, SCRFD's ``embedded`` by default) estimates from its
landmarks, so every pack is binned on the same photos. Per yaw bin and pack: photos, faces at the pack's
threshold, faces only the fallback gave, photos with no face at all and those a look at the floor would
find, the median detection score, faces flagged ``EXTREME_POSE`` (medium filter), and FNIR at FPIR 1% of
the mated searches in the bin, summed over ``--draws`` galleries of ``--gallery`` people (one photo each,
drawn at random; up to ``--mated-cap`` other photos of each enrolled person search; photos of people not
enrolled search as strangers and set each draw's threshold). Every pack sees the same draws. Long (about
4 minutes per pack): run it by hand, never in tests.

    .venv/bin/python scripts/pose_study.py ../shared/datasets/lfw-dev --out docs/report/pose-lfw-dev.json
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
from frs.evaluation.embeddings import FACE_RULES, choose_face, image_size
from frs.pipeline.analyzer import AnalyzedFace, load_analyzer
from frs.pipeline.quality import EXTREME_POSE

BINS = ((0, 15), (15, 30), (30, 45), (45, 60), (60, 181))
Row = dict[str, Any]
Draw = tuple[list[tuple[str, Path]], list[tuple[Path, str]], list[Path]]  # enrolled, mated, strangers


def _analyse(analyzer: Any, path: Path) -> list[AnalyzedFace]:
    try:
        return list(analyzer.analyze(path.read_bytes()).faces)
    except FRSError:
        return []


def analyse(pack: str, paths: list[Path], floor: float, rule: str) -> dict[Path, Row]:
    settings = dataclasses.replace(Settings.from_env(), pack=pack, det_threshold=None)
    service = load_analyzer(settings)
    lower = load_analyzer(dataclasses.replace(settings, det_threshold=floor))
    threshold = float(service.det_threshold)
    rows: dict[Path, Row] = {}
    for path in tqdm(paths, desc=pack, unit="img"):
        faces = _analyse(service, path)
        if not faces:
            rows[path] = {"found": False, "at_floor": bool(_analyse(lower, path))}
            continue
        # choose_face returns one of the faces given: an AnalyzedFace.
        chosen = faces[0] if len(faces) == 1 else choose_face(faces, rule, image_size(path))  # type: ignore[arg-type]
        face = next(f for f in faces if f is chosen)
        rows[path] = {
            "found": True,
            "fallback": face.score < threshold,
            "score": float(face.score),
            "yaw": float(face.quality.pose.yaw),
            "extreme": EXTREME_POSE in face.quality.issues,
            "embedding": face.embedding,
        }
    return rows


def draws(people: dict[str, list[Path]], size: int, count: int, cap: int, seed: int) -> list[Draw]:
    """``count`` galleries of ``size`` people (those with two or more photos first), each enrolled with a
    photo drawn at random; their other photos (at most ``cap``) search as mated, all others as strangers."""
    rng = random.Random(seed)
    repeat = [name for name, photos in people.items() if len(photos) > 1]
    single = [name for name, photos in people.items() if len(photos) == 1]
    out: list[Draw] = []
    for _ in range(count):
        chosen = rng.sample(repeat, min(size, len(repeat)))
        chosen += rng.sample(single, max(0, size - len(chosen)))
        enrolled, mated = [], []
        for name in chosen:
            photos = list(people[name])
            first = photos.pop(rng.randrange(len(photos)))
            enrolled.append((name, first))
            mated += [(p, name) for p in rng.sample(photos, min(cap, len(photos)))]
        taken = set(chosen)
        strangers = [p for name, photos in people.items() if name not in taken for p in photos]
        out.append((enrolled, mated, strangers))
    return out


Hit = tuple[float, str | None]


def _best(row: Row, matrix: npt.NDArray[np.float32], owners: list[str]) -> Hit:
    """The top score and its owner for the photo of ``row`` (-1 and None where it has no face)."""
    if not row["found"] or row.get("embedding") is None:
        return -1.0, None
    scores = matrix @ row["embedding"]
    top = int(np.argmax(scores))
    return float(scores[top]), owners[top]


def fnir_by_bin(rows: dict[Path, Row], yaw: dict[Path, float], galleries: list[Draw]) -> dict[str, Any]:
    totals = {f"{low}-{high}": {"searches": 0, "misses": 0} for low, high in BINS}
    thresholds = []
    for enrolled, mated, strangers in galleries:
        gallery: list[npt.NDArray[np.float32]] = []
        owners: list[str] = []
        for name, photo in enrolled:
            if rows[photo]["found"] and rows[photo].get("embedding") is not None:
                gallery.append(rows[photo]["embedding"])
                owners.append(name)
        matrix = np.stack(gallery)
        stranger_scores = sorted((_best(rows[p], matrix, owners)[0] for p in strangers), reverse=True)
        threshold = stranger_scores[int(0.01 * len(stranger_scores))]
        thresholds.append(threshold)
        for path, name in mated:
            if path not in yaw:
                continue
            key = next(f"{lo}-{hi}" for lo, hi in BINS if lo <= abs(yaw[path]) < hi)
            score, who = _best(rows[path], matrix, owners)
            totals[key]["searches"] += 1
            totals[key]["misses"] += not (who == name and score > threshold)
    return {"thresholds": thresholds, "bins": totals}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--packs", nargs="+", default=["embedded", "open"], help="first: the yaw reference")
    parser.add_argument("--floor", type=float, default=0.3, help="threshold of the look where none (0.3)")
    parser.add_argument("--face", choices=FACE_RULES, default="centre", help="face a photo stands for")
    parser.add_argument("--gallery", type=int, default=1000, help="people enrolled (1000)")
    parser.add_argument("--draws", type=int, default=10, help="galleries drawn (10)")
    parser.add_argument("--mated-cap", type=int, default=10, help="searches per enrolled person (10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    people = {name: list(photos) for name, photos in scan_dataset(args.dataset).items()}
    paths = [p for photos in people.values() for p in photos]
    results = {pack: analyse(pack, paths, args.floor, args.face) for pack in args.packs}
    reference = results[args.packs[0]]
    yaw = {p: row["yaw"] for p, row in reference.items() if "yaw" in row}
    galleries = draws(people, args.gallery, args.draws, args.mated_cap, args.seed)
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "photos": len(paths),
        "command": " ".join(sys.argv),
        "protocol": {
            "face": args.face,
            "gallery": args.gallery,
            "draws": args.draws,
            "mated_cap": args.mated_cap,
            "seed": args.seed,
            "fpir": 0.01,
            "unbinned": len(paths) - len(yaw),
        },
    }
    for pack, rows in results.items():
        per_bin = {}
        for low, high in BINS:
            inside = [rows[p] for p in paths if p in yaw and low <= abs(yaw[p]) < high]
            scores = [r["score"] for r in inside if "score" in r]
            per_bin[f"{low}-{high}"] = {
                "photos": len(inside),
                "found": sum(r["found"] and not r["fallback"] for r in inside),
                "fallback": sum(r["found"] and r["fallback"] for r in inside),
                "no_face": sum(not r["found"] for r in inside),
                "median_score": float(np.median(scores)) if scores else None,
                "extreme_pose": sum(bool(r.get("extreme")) for r in inside),
            }
        report[pack] = {
            "no_face": sum(not r["found"] for r in rows.values()),
            "fallback": sum(r["found"] and r["fallback"] for r in rows.values()),
            "no_face_but_found_at_floor": sum(not r["found"] and r["at_floor"] for r in rows.values()),
            "bins": per_bin,
            "fnir_at_fpir_1pct": fnir_by_bin(rows, yaw, galleries),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    for pack in args.packs:
        bins = report[pack]["fnir_at_fpir_1pct"]["bins"]
        print(
            pack,
            report[pack]["no_face"],
            report[pack]["fallback"],
            {k: f"{v['misses']}/{v['searches']}" for k, v in bins.items()},
        )


if __name__ == "__main__":
    main()
