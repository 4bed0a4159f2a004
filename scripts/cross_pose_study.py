"""Issue 20 item 3: verification across a pose gap, built from an identity-per-folder dataset (lfw-dev) and
mirrored photos, for each pack side by side.

LFW holds few turned heads, but a photo at yaw +a and the mirror of another photo of the same person at yaw
+b (so at -b) make a genuine pair whose yaws differ by a + b: two 35-degree photos give a 70-degree gap,
the kind of gap a frontal-vs-profile comparison has. Up to ``--per-person`` photos of every person with two
or more are drawn (seeded), and each photo and its mirror are analysed as the service does (the pack's
threshold, then the fallback; the face nearest the centre). Every pair of these items, except a photo with
its own mirror, is compared: genuine where the person is the same. A photo's yaw is the reference pack's (the
first given, SCRFD's ``embedded`` by default); its mirror's is its negative, so both packs are binned on the
same pairs. A photo with no face rejects every pair it is in.

Per bin of yaw gap and pack: genuine and impostor pairs, TAR and FAR at the pack's 1:1 threshold for
``--far`` (from its calibration, as ``verify`` uses it) and at the threshold that gives ``--far`` on this
run's impostor pairs, and a 10-fold accuracy (folds by person, the same number of impostor as genuine pairs
drawn per bin, the threshold fitted on nine folds), the protocol of the issue's frontal-vs-profile figure.
A mirror is not a second photo (the light and the background are mirrored too), so the largest gaps are a
stand-in for profiles, not a profile set. Long (about 10 minutes per pack): run it by hand, never in tests.

    .venv/bin/python scripts/cross_pose_study.py ../shared/datasets/lfw-dev \
        --out docs/report/cross-pose-lfw-dev.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.decision.operating_point import threshold_for_far
from frs.errors import FRSError
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.embeddings import FACE_RULES, choose_face
from frs.evaluation.systems import pack_calibration
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer, load_analyzer

BINS = ((0, 15), (15, 30), (30, 45), (45, 60), (60, 75), (75, 90), (90, 181))
FOLDS = 10


@dataclasses.dataclass
class Item:
    person: int
    photo: int
    mirrored: bool
    found: bool = False
    yaw: float = 0.0  # the pack's own estimate (the reference's sets the bins)
    embedding: npt.NDArray[np.float32] | None = None


def _faces(analyzer: FaceAnalyzer, data: bytes) -> list[AnalyzedFace]:
    try:
        return list(analyzer.analyze(data).faces)
    except FRSError:
        return []


def _mirrored(analyzer: FaceAnalyzer, data: bytes) -> tuple[bytes, tuple[int, int]]:
    """The photo flipped left to right, as a lossless PNG (the decoded pixels, EXIF orientation applied)."""
    rgb = analyzer.decode(data).rgb
    ok, png = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb[:, ::-1]), cv2.COLOR_RGB2BGR))
    assert ok
    return png.tobytes(), (rgb.shape[1], rgb.shape[0])


def analyse(pack: str, photos: list[tuple[int, Path]], rule: str) -> list[Item]:
    analyzer = load_analyzer(dataclasses.replace(Settings.from_env(), pack=pack, det_threshold=None))
    items: list[Item] = []
    for index, (person, path) in enumerate(tqdm(photos, desc=pack, unit="photo")):
        data = path.read_bytes()
        mirror, size = _mirrored(analyzer, data)
        for mirrored, blob in ((False, data), (True, mirror)):
            item = Item(person, index, mirrored)
            faces = _faces(analyzer, blob)
            if faces:
                chosen = faces[0] if len(faces) == 1 else choose_face(faces, rule, size)  # type: ignore[arg-type]
                face = next(f for f in faces if f is chosen)
                item.found, item.yaw, item.embedding = True, float(face.quality.pose.yaw), face.embedding
            items.append(item)
    return items


def _pairs(reference: list[Item]) -> dict[str, npt.NDArray[Any]]:
    """Index pairs (i < j) of all items except a photo with its own mirror, their yaw gap (the reference's
    yaws, a mirror's negated) and whether they are genuine."""
    yaw = np.array([(-1 if it.mirrored else 1) * it.yaw if it.found else np.nan for it in reference])
    person = np.array([it.person for it in reference])
    photo = np.array([it.photo for it in reference])
    i, j = np.triu_indices(len(reference), k=1)
    keep = photo[i] != photo[j]
    i, j = i[keep], j[keep]
    return {"i": i, "j": j, "gap": np.abs(yaw[i] - yaw[j]), "genuine": person[i] == person[j]}


def _scores(items: list[Item], i: npt.NDArray[Any], j: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Cosine similarity of each pair; -2 where either item has no face (rejected at any threshold)."""
    dim = next(len(it.embedding) for it in items if it.embedding is not None)
    matrix = np.stack([it.embedding if it.embedding is not None else np.zeros(dim) for it in items])
    matrix = matrix.astype(np.float32)
    found = np.array([it.found for it in items])
    out = np.empty(len(i), np.float32)
    step = 2_000_000
    for start in range(0, len(i), step):
        a, b = i[start : start + step], j[start : start + step]
        out[start : start + step] = np.einsum("ij,ij->i", matrix[a], matrix[b])
    out[~(found[i] & found[j])] = -2.0
    return out


def _fold_accuracy(
    genuine: npt.NDArray[np.float32],
    impostor: npt.NDArray[np.float32],
    genuine_fold: npt.NDArray[np.int64],
    impostor_fold: npt.NDArray[np.int64],
) -> tuple[float, float]:
    """Mean and spread of the 10-fold accuracy: each fold's threshold maximises accuracy on the other nine."""
    accuracies = []
    for fold in range(FOLDS):
        train_g, train_i = genuine[genuine_fold != fold], impostor[impostor_fold != fold]
        test_g, test_i = genuine[genuine_fold == fold], impostor[impostor_fold == fold]
        if not len(test_g) or not len(test_i):
            continue
        candidates = np.unique(np.concatenate([train_g, train_i]))
        correct = [(train_g > t).sum() + (train_i <= t).sum() for t in candidates]
        threshold = candidates[int(np.argmax(correct))]
        hits = (test_g > threshold).sum() + (test_i <= threshold).sum()
        accuracies.append(hits / (len(test_g) + len(test_i)))
    return float(np.mean(accuracies)), float(np.std(accuracies))


def measure(
    pack: str, items: list[Item], pairs: dict[str, npt.NDArray[Any]], far: float, seed: int
) -> dict[str, Any]:
    scores = _scores(items, pairs["i"], pairs["j"])
    genuine = pairs["genuine"]
    person = np.array([it.person for it in items])
    analyzer = load_analyzer(dataclasses.replace(Settings.from_env(), pack=pack))
    calibration = pack_calibration(analyzer)
    assert calibration is not None, f"pack {pack} has no calibration"
    thresholds = {
        "pack": float(threshold_for_far(far, calibration).threshold),
        "run": float(np.quantile(scores[~genuine], 1 - far)),
    }
    rng = np.random.default_rng(seed)
    fold_of_person = rng.integers(0, FOLDS, person.max() + 1)
    bins: dict[str, Any] = {}
    for low, high in BINS:
        inside = (pairs["gap"] >= low) & (pairs["gap"] < high)
        g, imp = scores[inside & genuine], scores[inside & ~genuine]
        row: dict[str, Any] = {
            "genuine": len(g),
            "people": len(np.unique(person[pairs["i"][inside & genuine]])),  # pairs are correlated
            "impostor": len(imp),
        }
        for name, t in thresholds.items():
            row[f"tar_{name}"] = float((g > t).mean()) if len(g) else None
            row[f"far_{name}"] = float((imp > t).mean()) if len(imp) else None
        if len(g) >= FOLDS and len(imp) >= len(g):
            pick = rng.choice(len(imp), len(g), replace=False)
            gi = pairs["i"][inside & genuine]
            ii = pairs["i"][inside & ~genuine][pick]
            folds = fold_of_person[person[gi]], fold_of_person[person[ii]]
            mean, spread = _fold_accuracy(g, imp[pick], *folds)
            row["accuracy_10fold"], row["accuracy_std"] = mean, spread
        bins[f"{low}-{high}"] = row
    return {
        "no_face": sum(not it.found for it in items),
        "no_face_mirrored": sum(not it.found for it in items if it.mirrored),
        "thresholds": thresholds,
        "bins": bins,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--packs", nargs="+", default=["embedded", "open"], help="first: the yaw reference")
    parser.add_argument("--per-person", type=int, default=10, help="photos drawn per person (10)")
    parser.add_argument("--face", choices=FACE_RULES, default="centre", help="face a photo stands for")
    parser.add_argument("--far", type=float, default=0.001, help="the 1:1 false-accept rate (0.001)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    people = [sorted(p) for p in scan_dataset(args.dataset).values() if len(p) > 1]
    photos = [(n, p) for n, ps in enumerate(people) for p in rng.sample(ps, min(args.per_person, len(ps)))]
    items = {pack: analyse(pack, photos, args.face) for pack in args.packs}
    reference = items[args.packs[0]]
    pairs = _pairs(reference)
    known = ~np.isnan(pairs["gap"])
    pairs = {k: v[known] for k, v in pairs.items()}
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "command": " ".join(sys.argv),
        "people": len(people),
        "photos": len(photos),
        "pairs": {"genuine": int(pairs["genuine"].sum()), "impostor": int((~pairs["genuine"]).sum())},
        "unbinned_items": sum(not it.found for it in reference),
        "protocol": {"per_person": args.per_person, "face": args.face, "far": args.far, "seed": args.seed},
    }
    for pack in args.packs:
        own = items[pack]
        # The pack's own yaw on a mirror should be the negative of the original's.
        both = [(a.yaw, b.yaw) for a, b in zip(own[::2], own[1::2], strict=True) if a.found and b.found]
        result = measure(pack, own, pairs, args.far, args.seed)
        yaws = np.array(both).reshape(-1, 2)
        result["mirror_yaw_agreement"] = float(np.corrcoef(yaws[:, 0], yaws[:, 1])[0, 1]) if both else None
        report[pack] = result
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    for pack in args.packs:
        print(pack, report[pack]["no_face"], report[pack]["thresholds"])
        for key, row in report[pack]["bins"].items():
            acc = row.get("accuracy_10fold")
            print(
                f"  {key:>7} genuine {row['genuine']:>7} TAR pack {row['tar_pack'] or 0:.4f} "
                f"run {row['tar_run'] or 0:.4f}  FAR run {row['far_run'] or 0:.5f}  "
                f"acc {acc if acc is None else round(acc, 4)}"
            )


if __name__ == "__main__":
    main()
