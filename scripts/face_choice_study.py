"""Issue 20 item 2: how much of the `lfw-dev` verification gap between packs is the choice of face, not
the recogniser. Every face of every photo is embedded once per pack (cached), then TAR at FAR 0.1% is
computed with three rules for the one face a photo stands for: the largest box (what ``frs eval`` uses), the
box nearest the photo's centre (where LFW puts the labelled person) and the largest landmark scale
(inter-ocular x eye-mouth).

    .venv/bin/python scripts/face_choice_study.py ../shared/datasets/lfw-dev --cache out/faces \
        --out docs/report/face-choice-lfw-dev.json

Long (every photo through each pack: about 15 minutes for `open`, more for `embedded` here); never in tests.
Genuine pairs: every pair of one person's photos (all pairs), and the same capped at a person's first 10
photos; impostors: 3 million random pairs of different people (seed 0); the threshold is the impostors' 99.9th
percentile for each pack and rule.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.pipeline.analyzer import load_analyzer

RULES = ("largest", "centre", "landmark_scale")
IMPOSTOR_PAIRS = 3_000_000
CAP = 10


def embed_faces(dataset: Path, photos: list[Path], pack: str, cache: Path) -> np.ndarray:
    """Rows of (photo index, face index, x1, y1, x2, y2, score, 10 landmark coordinates, 0, embedding...)."""
    path = cache / f"faces-{pack}.npz"
    if path.exists():
        cached: np.ndarray = np.load(path)["faces"]
        return cached
    analyzer = load_analyzer(dataclasses.replace(Settings.from_env(), pack=pack))
    rows = []
    for i, photo in enumerate(photos):
        for j, face in enumerate(analyzer.analyze(photo.read_bytes()).faces):
            assert face.embedding is not None
            head = [i, j, *face.bbox, face.score, *face.landmarks.ravel().tolist(), 0.0]
            rows.append(np.concatenate([np.asarray(head, np.float32), face.embedding]))
    faces = np.stack(rows).astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, faces=faces, photos=np.array([str(p.relative_to(dataset)) for p in photos]))
    return faces


def choose(faces: np.ndarray, rule: str, centre: tuple[float, float]) -> dict[int, int]:
    """Photo index -> the row of the face that stands for it under ``rule``."""
    best: dict[int, tuple[float, int]] = {}
    for row in range(len(faces)):
        photo = int(faces[row, 0])
        x1, y1, x2, y2 = faces[row, 2:6]
        marks = faces[row, 7:17].reshape(5, 2)
        if rule == "largest":
            key = float((x2 - x1) * (y2 - y1))
        elif rule == "centre":
            key = -float(np.hypot((x1 + x2) / 2 - centre[0], (y1 + y2) / 2 - centre[1]))
        else:
            eyes, mouth = (marks[0] + marks[1]) / 2, (marks[3] + marks[4]) / 2
            key = float(np.linalg.norm(marks[0] - marks[1]) * np.linalg.norm(eyes - mouth))
        if photo not in best or key > best[photo][0]:
            best[photo] = (key, row)
    return {photo: row for photo, (_, row) in best.items()}


def tar_at_far(faces: np.ndarray, chosen: dict[int, int], people: np.ndarray) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    found = np.array(sorted(chosen))
    vectors = np.zeros((len(people), faces.shape[1] - 18), np.float32)
    for photo, row in chosen.items():
        vectors[photo] = faces[row, 18:] / np.linalg.norm(faces[row, 18:])
    by_person: dict[str, list[int]] = collections.defaultdict(list)
    for photo in found.tolist():
        by_person[people[photo]].append(photo)
    genuine = np.array([pair for ids in by_person.values() for pair in itertools.combinations(ids, 2)])
    capped_ids = {photo for ids in by_person.values() for photo in ids[:CAP]}
    capped = np.array([a in capped_ids and b in capped_ids for a, b in genuine.tolist()])
    a, b = rng.choice(found, IMPOSTOR_PAIRS), rng.choice(found, IMPOSTOR_PAIRS)
    keep = people[a] != people[b]
    impostor = np.einsum("ij,ij->i", vectors[a[keep]], vectors[b[keep]])
    threshold = float(np.quantile(impostor, 0.999))
    scores = np.einsum("ij,ij->i", vectors[genuine[:, 0]], vectors[genuine[:, 1]])
    return {
        "threshold": round(threshold, 4),
        "impostor_pairs": int(keep.sum()),
        "all_pairs": {"accepted": int((scores >= threshold).sum()), "genuine": len(scores)},
        "capped": {"accepted": int((scores[capped] >= threshold).sum()), "genuine": int(capped.sum())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--packs", default="open,embedded")
    parser.add_argument("--cache", type=Path, required=True, help="where each pack's faces are kept")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    photos = sorted(args.dataset.glob("*/*.jpg"))
    people = np.array([p.parent.name for p in photos])
    result: dict[str, Any] = {"dataset": str(args.dataset), "photos": len(photos), "packs": {}}
    for pack in args.packs.split(","):
        faces = embed_faces(args.dataset, photos, pack, args.cache)
        result["packs"][pack] = {}
        for rule in RULES:
            measured = tar_at_far(faces, choose(faces, rule, (125.0, 125.0)), people)
            result["packs"][pack][rule] = measured
            rate = measured["all_pairs"]["accepted"] / measured["all_pairs"]["genuine"]
            capped = measured["capped"]["accepted"] / measured["capped"]["genuine"]
            print(f"{pack:9} {rule:15} TAR@FAR0.1% all pairs {rate:.4%}  capped {capped:.4%}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
