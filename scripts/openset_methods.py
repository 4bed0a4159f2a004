"""Issue 19: which calibration population gives open-set operating points that hold on unseen people?

    .venv/bin/python scripts/openset_methods.py DATASET [--pack open] [--splits 5] [--draws 4]
        [--cache FILE.npz] [--out docs/report/openset-methods.json]

DATASET is a folder per identity (e.g. ../shared/datasets/lfw-dev). Every photo is embedded once with the
pack's pipeline (the face nearest the centre, as ``frs calibrate`` does; ``--cache`` keeps the vectors in a
file outside the repo for the next run). Then, as ``frs calibrate --check`` does, each split halves the people
(separately among those with several photos and those with one), one half calibrates, the other is searched
with ``frs eval``'s open-set protocol, and the other way round. Each method turns the calibration half into a
threshold for ``N`` enrolled faces at the target FPIR:

- ``look_alike_groups``: FRS before issue 19 (face pairs inside k-means groups of ~50 faces, then
  ``1 - (1 - FMR) ** N``);
- ``every_pair_of_faces``: every pair of faces alike, then ``1 - (1 - FMR) ** N``;
- ``each_identity_weighs_one``: FRS now (every pair of people, each weighing one; strangers' photos capped);
- ``per_probe_maximum``: the expected share of strangers whose best score over a random gallery of ``N``
  people reaches ``t``, per stranger ``1 - (1 - f_p(t)) ** N`` with ``f_p`` its share of people above ``t``
  (the per-probe maximum over simulated galleries, computed exactly rather than sampled).

It also checks the independence in ``1 - (1 - FMR) ** N`` on the whole dataset: the exact expectation over
random galleries in which each person enters with probability ``N / I`` (an unbiased estimate, unlike the
plug-in above) against the formula, at the formula's thresholds.

Minutes on 2 cores once the vectors exist (embedding lfw-dev takes 10-30 minutes).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.config import Settings
from frs.decision.calibrate import embed_dataset
from frs.decision.calibration import calibrate_pack, compute_calibration
from frs.decision.groups import look_alike_groups
from frs.decision.operating_point import per_comparison_rate, threshold_for
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.embeddings import ImageVectors
from frs.evaluation.heldout import split_people
from frs.evaluation.open_set import SearchScores, fnir_at_fpir
from frs.evaluation.protocol import draw_galleries, largest_gallery
from frs.evaluation.rates import Rate
from frs.evaluation.runner import search_draw
from frs.evaluation.systems import cosine
from frs.pipeline.analyzer import load_analyzer

Vectors = npt.NDArray[np.float32]
GRID = np.round(np.arange(0.15, 0.951, 0.0025), 4)
SIZES = (10, 30, 100, 300, 1000)
PROBE_CAP = 10


def embed(dataset: Path, pack: str, cache: Path | None) -> tuple[dict[str, list[Path]], ImageVectors]:
    identities = {name: list(paths) for name, paths in scan_dataset(dataset).items()}
    images = ImageVectors(dataset)
    if cache is not None and cache.exists():
        stored = np.load(cache)
        found = dict(zip(stored["paths"].tolist(), stored["vectors"], strict=True))
    else:
        settings = dataclasses.replace(Settings.from_env(), pack=pack)
        embedded = embed_dataset(load_analyzer(settings), identities, progress=True)
        found = {
            str(p.relative_to(dataset)): v for p, v in zip(embedded.paths, embedded.embeddings, strict=True)
        }
        if cache is not None:
            np.savez(cache, paths=np.array(list(found)), vectors=np.stack(list(found.values())))
    for paths in identities.values():
        for path in paths:
            vector = found.get(str(path.relative_to(dataset)))
            images.vectors[path] = (
                None if vector is None else (vector / np.linalg.norm(vector)).astype(np.float32)
            )
    return identities, images


def per_probe_rates(vectors: Vectors, codes: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64], Any]:
    """f_p(t) on GRID: each face's share of the other people (one random photo each) scoring >= t."""
    counts = np.bincount(codes)
    weight = 1.0 / counts[codes]
    rates = np.zeros((codes.size, GRID.size))
    for start in range(0, codes.size, 512):
        scores = vectors[start : start + 512] @ vectors.T
        scores[codes[start : start + 512, None] == codes[None, :]] = -2.0
        order = np.argsort(-scores, axis=1)
        ranked = np.take_along_axis(scores, order, axis=1)
        cumulative = np.cumsum(weight[order], axis=1)
        for row in range(scores.shape[0]):
            above = np.searchsorted(-ranked[row], -GRID, side="right")
            rates[start + row] = np.where(above > 0, cumulative[row][np.maximum(above - 1, 0)], 0.0)
    probe_weight = np.minimum(1.0, PROBE_CAP / counts[codes])
    return rates / (counts.size - 1), probe_weight


def grid_threshold(curve: npt.NDArray[np.float64], target: float) -> float:
    """The lowest GRID threshold whose (decreasing) curve is <= target, log-interpolated."""
    below = np.nonzero(curve <= target)[0]
    if below.size == 0:
        return float(GRID[-1])
    i = int(below[0])
    if i == 0:
        return float(GRID[0])
    a, b = np.log(max(curve[i - 1], 1e-300)), np.log(max(curve[i], 1e-300))
    frac = 0.0 if a == b else (a - np.log(target)) / (a - b)
    return float(GRID[i - 1] + frac * (GRID[i] - GRID[i - 1]))


def methods(vectors: Vectors, labels: list[str], target: float) -> dict[str, Callable[[int], float]]:
    """Each method's threshold for N enrolled faces, calibrated on these vectors."""
    groups = look_alike_groups(vectors, max(1, round(len(labels) / 50))).tolist()
    look_alike = compute_calibration(vectors, labels, pack="x", dataset="half", groups=groups)
    chosen = calibrate_pack(vectors, labels, pack="x", dataset="half")
    _, codes = np.unique(np.array(labels), return_inverse=True)
    rates, probe_weight = per_probe_rates(vectors, codes.astype(np.int64))

    def mixture(size: int) -> float:
        passed = -np.expm1(size * np.log1p(-np.minimum(rates, 1 - 1e-12)))
        return grid_threshold((probe_weight[:, None] * passed).sum(0) / probe_weight.sum(), target)

    # Every pair of faces counted alike (no weights), read off the empirical scores.
    scores = vectors @ vectors.T
    upper = np.triu(np.ones(scores.shape, dtype=bool), k=1) & (codes[:, None] != codes[None, :])
    ranked = np.sort(scores[upper])[::-1]

    def every_face_pair(size: int) -> float:
        rank = max(1, int(per_comparison_rate(target, size) * ranked.size))
        return float(ranked[min(rank, ranked.size) - 1])

    return {
        "look_alike_groups": lambda n: threshold_for(target, n, look_alike).threshold,
        "every_pair_of_faces": every_face_pair,
        "each_identity_weighs_one": lambda n: threshold_for(target, n, chosen).threshold,
        "per_probe_maximum": mixture,
    }


def independence_check(vectors: Vectors, codes: npt.NDArray[np.int64], target: float) -> list[dict[str, Any]]:
    """Exact expected FPIR over random galleries (each person in with probability N / I) against the
    independence formula, at the formula's own thresholds, over the whole dataset."""
    counts = np.bincount(codes)
    weight = 1.0 / counts
    people = counts.size
    probe_weight = np.minimum(1.0, PROBE_CAP / counts[codes])
    record = calibrate_pack(vectors, [str(c) for c in codes], pack="x", dataset="all")
    sizes = [n for n in (10, 100, 1000, 3000) if n < people]
    thresholds = np.array([threshold_for(target, n, record).threshold for n in sizes])
    expected = np.zeros(len(sizes))
    for start in range(0, codes.size, 256):
        scores = vectors[start : start + 256] @ vectors.T
        for row in range(scores.shape[0]):
            probe = start + row
            near = np.nonzero((scores[row] >= thresholds.min()) & (codes != codes[probe]))[0]
            if near.size == 0:
                continue
            owners, owner_of = np.unique(codes[near], return_inverse=True)
            for k, (size, threshold) in enumerate(zip(sizes, thresholds, strict=True)):
                share = np.zeros(owners.size)
                hit = scores[row][near] >= threshold
                np.add.at(share, owner_of[hit], weight[codes[near][hit]])
                inclusion = size / (people - 1)
                expected[k] += probe_weight[probe] * -np.expm1(np.log1p(-inclusion * share).sum())
    expected /= probe_weight.sum()
    return [
        {
            "gallery_size": n,
            "threshold": float(t),
            "formula_fpir": target,
            "exact_fpir": float(e),
            "ratio": float(e / target),
        }
        for n, t, e in zip(sizes, thresholds, expected, strict=True)
    ]


def held_out(
    identities: dict[str, list[Path]], images: ImageVectors, args: argparse.Namespace
) -> dict[str, Any]:
    dim = next(v.shape[0] for v in images.vectors.values() if v is not None)
    pooled: dict[tuple[str, int], dict[str, Any]] = {}
    for split in range(args.splits):
        halves = split_people(identities, args.seed + split)
        for direction, (train, test) in enumerate((halves, halves[::-1])):
            names = [n for n in sorted(train) for p in identities[n] if images.get(p) is not None]
            vectors = np.stack(
                [v for n in sorted(train) for p in identities[n] if (v := images.get(p)) is not None]
            )
            thresholds = methods(vectors, names, args.target_fpir)
            tested = {name: identities[name] for name in test}
            for size in SIZES:
                if size > largest_gallery(tested):
                    continue
                draws = draw_galleries(tested, size, args.draws, args.seed * 1000 + split * 2 + direction)
                searched = [search_draw(cosine, images, draw, dim) for draw in draws]
                for method, threshold_of in thresholds.items():
                    entry = pooled.setdefault(
                        (method, size),
                        {
                            "scores": None,
                            "fpir": Rate(0, 0),
                            "fnir": Rate(0, 0),
                            "ratios": [],
                            "thresholds": [],
                        },
                    )
                    before = entry["fpir"]
                    for scores, faces in searched:
                        threshold = threshold_of(max(1, faces))
                        at = scores.at(threshold)
                        entry["fpir"] += at.fpir
                        entry["fnir"] += at.fnir
                        entry["thresholds"].append(threshold)
                        entry["scores"] = scores if entry["scores"] is None else entry["scores"] + scores
                    added = entry["fpir"].n - before.n
                    entry["ratios"].append((entry["fpir"].count - before.count) / added / args.target_fpir)
            print(f"split {split} direction {direction} done", file=sys.stderr, flush=True)
    rows = []
    for (method, size), entry in sorted(pooled.items(), key=lambda item: (item[0][1], item[0][0])):
        pooled_scores: SearchScores = entry["scores"]
        distinct = np.unique(pooled_scores.nonmated).size
        oracle = fnir_at_fpir(pooled_scores, args.target_fpir, distinct_nonmated=distinct)
        fnir = entry["fnir"].value
        rows.append(
            {
                "method": method,
                "gallery_size": size,
                "threshold_mean": float(np.mean(entry["thresholds"])),
                "fpir": entry["fpir"].to_dict(),
                "fpir_over_target": entry["fpir"].value / args.target_fpir,
                "fpir_over_target_per_split": {
                    "median": float(np.median(entry["ratios"])),
                    "min": min(entry["ratios"]),
                    "max": max(entry["ratios"]),
                },
                "fnir": entry["fnir"].to_dict(),
                "oracle_fnir": None if oracle is None else oracle.fnir.to_dict(),
                "fnir_gap": None if oracle is None or fnir is None else fnir - (oracle.fnir.value or 0.0),
            }
        )
    return {"rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--pack", default="open")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target-fpir", type=float, default=Settings.target_fpir)
    parser.add_argument("--cache", type=Path, help="an .npz to keep the vectors in (outside the repo)")
    parser.add_argument("--out", type=Path, default=Path("docs/report/openset-methods.json"))
    args = parser.parse_args()
    started = time.time()
    identities, images = embed(args.dataset, args.pack, args.cache)
    result: dict[str, Any] = {
        "schema": "frs-openset-methods/1",
        "command": " ".join(["scripts/openset_methods.py", *sys.argv[1:]]),
        "dataset": args.dataset.resolve().name,
        "pack": args.pack,
        "people": len(identities),
        "photos": sum(len(p) for p in identities.values()),
        "target_fpir": args.target_fpir,
        "splits": args.splits,
        "draws": args.draws,
        **held_out(identities, images, args),
    }
    kept = [
        (name, v) for name, paths in identities.items() for p in paths if (v := images.get(p)) is not None
    ]
    _, codes = np.unique(np.array([n for n, _ in kept]), return_inverse=True)
    result["independence"] = independence_check(
        np.stack([v for _, v in kept]), codes.astype(np.int64), args.target_fpir
    )
    result["duration_s"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"out": str(args.out), "duration_s": result["duration_s"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
