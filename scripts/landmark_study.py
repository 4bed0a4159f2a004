"""Issue 20 item 2: how precise the open pack's YuNet landmarks are against the embedded pack's SCRFD, and
what that costs SFace, on an identity-per-folder dataset (lfw-dev). Long: run it by hand, never in tests.

    # 1. detections (resumable, in shards of 200 photos; photos of folds < --folds-first come first)
    .venv/bin/python scripts/landmark_study.py collect ../shared/datasets/lfw-dev --cache DIR \
        --pairs out/lfw-dev-folds.csv
    # 2. landmark error of YuNet (first pass and second looks) against SCRFD, per landmark: bias and noise
    .venv/bin/python scripts/landmark_study.py errors ../shared/datasets/lfw-dev --cache DIR --out errors.json
    # 3. SFace accuracy per landmark source, on the pairs whose photos were collected
    .venv/bin/python scripts/landmark_study.py accuracy ../shared/datasets/lfw-dev --cache DIR \
        --pairs out/lfw-dev-folds.csv --out accuracy.json

The pairs CSV comes from ``scripts/make_fold_pairs.py``. Each photo's face is the largest the detector finds
(as ``frs eval`` takes it); SCRFD's face is the one overlapping YuNet's most. Landmark templates are fitted
on one half of the people (by a hash of the name) and applied to the other half's photos, both ways, so no
accuracy figure comes from a template fitted on the same people.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import pickle
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.folds import kfold_accuracy
from frs.evaluation.landmarks import error_summary, face_frame_errors, fit_template
from frs.evaluation.metrics import threshold_at_rate
from frs.packs.manifest import DetectorSpec, RefineSpec, load_manifest
from frs.pipeline.align import align_face
from frs.pipeline.analyzer import FaceAnalyzer
from frs.pipeline.detectors import Detection
from frs.pipeline.detectors.base import iou
from frs.pipeline.refine import load_refiner

SHARD = 200
#: Second looks measured: (crop size, context, mirrored copy averaged in).
LOOKS = ((128, 2.0), (160, 1.6), (192, 2.0))
Found = list[tuple[npt.NDArray[np.float32], float, npt.NDArray[np.float32]]]  # box, score, landmarks


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    fold: str


def read_pairs(path: Path, root: Path) -> list[Pair]:
    """The pairs CSV with its paths made relative to the dataset (as the cache names photos)."""
    pairs = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            a, b = ((path.parent / row[c]).resolve().relative_to(root).as_posix() for c in ("a", "b"))
            pairs.append(Pair(a, b, row["same"] == "1", row["fold"]))
    return pairs


def _analyzer(pack: str) -> FaceAnalyzer:
    settings = Settings()
    return FaceAnalyzer(load_manifest(pack, settings.models_dir), settings)


def _found(detections: list[Detection]) -> Found:
    return [(d.bbox.copy(), d.score, d.landmarks.copy()) for d in detections]


def _largest(found: Found) -> tuple[npt.NDArray[np.float32], float, npt.NDArray[np.float32]] | None:
    return max(found, key=lambda f: float((f[0][2] - f[0][0]) * (f[0][3] - f[0][1])), default=None)


def _order(photos: list[str], pairs: list[Pair], first_folds: int) -> list[str]:
    """Photos of the first folds' pairs, then the other pairs', then the rest; each group shuffled, so
    any prefix of the collection is a random sample of it."""
    first = {p for pair in pairs if int(pair.fold) < first_folds for p in (pair.a, pair.b)}
    later = {p for pair in pairs for p in (pair.a, pair.b)} - first
    groups = [sorted(first), sorted(later), sorted(set(photos) - first - later)]
    ordered: list[str] = []
    for group in groups:
        random.Random(0).shuffle(group)
        ordered += group
    return ordered


def collect(root: Path, cache: Path, pairs: list[Pair], first_folds: int) -> None:
    photos = [p.relative_to(root).as_posix() for paths in scan_dataset(root).values() for p in paths]
    yunet, scrfd = _analyzer("open"), _analyzer("embedded")
    looks = {}
    for size, context in LOOKS:
        for mirror in (False, True):
            refine = RefineSpec(size, context, mirror)
            spec = DetectorSpec(**{**yunet.manifest.detector.__dict__, "refine": refine})
            refiner = load_refiner(spec, yunet.detector_session, manifest=yunet.manifest.path)
            assert refiner is not None
            looks[str((size, context, True) if mirror else (size, context))] = refiner
    ordered = _order(photos, pairs, first_folds)
    (cache / "shards").mkdir(parents=True, exist_ok=True)
    for start in range(0, len(ordered), SHARD):
        path = cache / "shards" / f"{start:05d}.pkl"
        if path.exists():
            continue
        records: dict[str, dict[str, Any]] = {}
        for name in ordered[start : start + SHARD]:
            rgb = yunet.decode((root / name).read_bytes()).rgb
            first = yunet.detector.detect(rgb, yunet.det_threshold)
            found = scrfd.detector.detect(rgb, scrfd.det_threshold) or scrfd.frame_filling.detect(
                rgb, scrfd.det_threshold
            )
            record: dict[str, Any] = {"open": _found(first), "embedded": _found(found)}
            if first:
                face = max(first, key=lambda d: float((d.bbox[2] - d.bbox[0]) * (d.bbox[3] - d.bbox[1])))
                for key, refiner in looks.items():
                    record[key] = refiner.refine_one(rgb, face).landmarks.copy()
            records[name] = record
        path.write_bytes(pickle.dumps(records))
        print(f"{start + SHARD} photos collected", file=sys.stderr, flush=True)


def load(cache: Path) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for path in sorted((cache / "shards").glob("*.pkl")):
        records.update(pickle.loads(path.read_bytes()))
    return records


Source = Callable[[dict[str, Any]], npt.NDArray[np.float32] | None]


def _first_pass(record: dict[str, Any]) -> npt.NDArray[np.float32] | None:
    face = _largest(record["open"])
    return None if face is None else face[2]


def _scrfd(record: dict[str, Any]) -> npt.NDArray[np.float32] | None:
    face = _largest(record["embedded"])
    return None if face is None else face[2]


def _look(key: str) -> Source:
    def source(record: dict[str, Any]) -> npt.NDArray[np.float32] | None:
        value = record.get(key)
        return None if value is None else np.asarray(value)

    return source


SOURCES: dict[str, Source] = {
    "yunet first pass": _first_pass,
    **{f"yunet look {s}px x{c}": _look(str((s, c))) for s, c in LOOKS},
    **{f"yunet look {s}px x{c} + mirrored": _look(str((s, c, True))) for s, c in LOOKS},
}


def _matched(records: dict[str, dict[str, Any]], source: Source) -> tuple[list[str], Any, Any]:
    """Photos where both detectors found the same face: names, the source's landmarks, SCRFD's."""
    names, ours, theirs = [], [], []
    for name, record in records.items():
        first, points = _largest(record["open"]), source(record)
        if first is None or points is None or not record["embedded"]:
            continue
        best = max(record["embedded"], key=lambda f: iou(f[0], first[0]))
        if iou(best[0], first[0]) >= 0.5:
            names.append(name)
            ours.append(points)
            theirs.append(best[2])
    return names, np.array(ours), np.array(theirs)


def errors(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for label, source in SOURCES.items():
        _, ours, theirs = _matched(records, source)
        result[label] = error_summary(*face_frame_errors(ours, theirs))
    return result


def _half(name: str) -> int:
    return int(hashlib.sha256(name.split("/", 1)[0].encode()).hexdigest(), 16) % 2


def _templates(records: dict[str, dict[str, Any]], source: Source) -> list[list[list[float]]]:
    """A template fitted on each half of the people (the photos of the other half are aligned with it)."""
    names, ours, theirs = _matched(records, source)
    halves = np.array([_half(n) for n in names])
    return [fit_template(ours[halves == h], theirs[halves == h]).round(3).tolist() for h in (0, 1)]


def _embed(
    root: Path, records: dict[str, dict[str, Any]], analyzer: FaceAnalyzer, source: Source, templates: Any
) -> dict[str, npt.NDArray[np.float32]]:
    vectors: dict[str, npt.NDArray[np.float32]] = {}
    names = [n for n, r in records.items() if source(r) is not None]
    for start in range(0, len(names), 64):
        chunk = names[start : start + 64]
        crops = []
        for name in chunk:
            rgb = analyzer.decode((root / name).read_bytes()).rgb
            template = None if templates is None else templates[1 - _half(name)]
            points = source(records[name])
            assert points is not None
            crops.append(align_face(rgb, points, analyzer.manifest.recognizer.input_size, template))
        vectors.update(zip(chunk, analyzer.embedder.embed(np.stack(crops)), strict=True))
    return vectors


def _scores(vectors: dict[str, npt.NDArray[np.float32]], pairs: list[Pair]) -> list[float]:
    return [
        float(vectors[p.a] @ vectors[p.b]) if p.a in vectors and p.b in vectors else -math.inf for p in pairs
    ]


def _tar_at_far(vectors: dict[str, npt.NDArray[np.float32]], names: list[str]) -> dict[str, Any]:
    """Every pair of the collected photos: TAR at FAR 0.1% and 0.01% (people with many photos weigh more)."""
    kept = [n for n in names if n in vectors]
    matrix = np.stack([vectors[n] for n in kept])
    people = np.array([n.split("/", 1)[0] for n in kept])
    upper = np.triu_indices(len(kept), 1)
    scores = (matrix @ matrix.T)[upper]
    same = (people[:, None] == people[None, :])[upper]
    genuine, impostor = scores[same], scores[~same]
    out: dict[str, Any] = {"genuine_pairs": int(genuine.size), "impostor_pairs": int(impostor.size)}
    for target in (1e-3, 1e-4):
        threshold = threshold_at_rate(impostor, target)
        out[f"tar_at_far_{target:g}"] = None if threshold is None else float((genuine >= threshold).mean())
    return out


def accuracy(root: Path, records: dict[str, dict[str, Any]], pairs: list[Pair]) -> dict[str, Any]:
    collected = [p for p in pairs if p.a in records and p.b in records]
    folds = sorted({p.fold for p in collected})
    names = sorted({n for p in collected for n in (p.a, p.b)})
    subset = {n: records[n] for n in names}
    open_pack, embedded_pack = _analyzer("open"), _analyzer("embedded")
    look = SOURCES["yunet look 160px x1.6 + mirrored"]
    variants: list[tuple[str, FaceAnalyzer, Source, bool]] = [
        ("embedded: SCRFD + SFace int8", embedded_pack, _scrfd, False),
        ("SCRFD + SFace fp32 (open's recognizer)", open_pack, _scrfd, False),
        ("open: YuNet first pass + SFace fp32", open_pack, _first_pass, False),
        ("YuNet first pass + fitted template", open_pack, _first_pass, True),
        ("YuNet look 160px x1.6 + mirrored", open_pack, look, False),
        ("YuNet look 160px x1.6 + mirrored + fitted template", open_pack, look, True),
    ]
    result: dict[str, Any] = {"pairs": len(collected), "folds": folds, "photos": len(names), "variants": {}}
    for label, analyzer, source, fitted in variants:
        templates = _templates(records, source) if fitted else None
        vectors = _embed(root, subset, analyzer, source, templates)
        scores = _scores(vectors, collected)
        kfold = kfold_accuracy(scores, [p.same for p in collected], [p.fold for p in collected])
        result["variants"][label] = {
            "kfold_accuracy": None if kfold is None else kfold.to_dict(),
            "all_pairs": _tar_at_far(vectors, names),
            "templates": templates,
        }
        shown = "n/a" if kfold is None else f"{100 * kfold.mean:.2f} ± {100 * kfold.std:.2f}"
        print(f"{label}: k-fold {shown}", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=("collect", "errors", "accuracy"))
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--pairs", type=Path, help="pairs CSV with a fold column (make_fold_pairs.py)")
    parser.add_argument("--folds-first", type=int, default=5, help="collect these folds' photos first")
    parser.add_argument("--out", type=Path, help="JSON to write (errors, accuracy)")
    args = parser.parse_args(argv)
    root = args.dataset.resolve()
    pairs = read_pairs(args.pairs, root) if args.pairs else []
    if args.step == "collect":
        collect(root, args.cache, pairs, args.folds_first)
        return 0
    records = load(args.cache)
    if args.step == "accuracy" and not pairs:
        parser.error("accuracy needs --pairs")
    result = errors(records) if args.step == "errors" else accuracy(root, records, pairs)
    text = json.dumps(result, indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
