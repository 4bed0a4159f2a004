"""Assemble one ``frs bench`` run into a JSON document (and a printed table)."""

from __future__ import annotations

import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from frs.bench import SECTIONS, peers, pipeline
from frs.config import Settings
from frs.evaluation.report import machine_info

ONE_FACE = "person_b_1.jpg"
GROUP = "solvay_conference_1927.jpg"

# The speed aims of issue 13 for the default pack: name, where the figure is in the result, how it compares.
AIMS: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("detect 1 face: SCRFD-2.5G / FRS >= 3", ("detector", ONE_FACE, "speedup_vs_scrfd_2.5g"), ">=", 3.0),
    (
        "detect+embed 1 face: FRS / FaceAnalysis <= 0.5",
        ("peers", ONE_FACE, "ratio_vs_faceanalysis"),
        "<=",
        0.5,
    ),
    (
        "detect+embed 1 face: FRS / face_recognition <= 0.2",
        ("peers", ONE_FACE, "ratio_vs_face_recognition"),
        "<=",
        0.2,
    ),
    ("detect+embed Solvay: FRS / FaceAnalysis <= 0.8", ("peers", GROUP, "ratio_vs_faceanalysis"), "<=", 0.8),
    (
        "cold start, process start to first result <= 400 ms",
        ("cold_start", "process_start_to_first_result", "p50"),
        "<=",
        400.0,
    ),
)


def run_bench(
    settings: Settings,
    photos_dir: Path,
    *,
    quick: bool = False,
    search_sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000),
    skip: Collection[str] = (),
) -> dict[str, Any]:
    """Every section of the bench on this machine but those in ``skip``; ``quick`` uses few runs (smoke
    tests, not figures)."""
    unknown = set(skip) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown bench sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    photos = {name: (photos_dir / name).read_bytes() for name in (ONE_FACE, GROUP)}
    runs = 3 if quick else 15
    result: dict[str, Any] = {"pack": {"name": settings.pack}, "machine": machine_info(), "quick": quick}

    def step(name: str) -> bool:
        if name in skip:
            return False
        print(f"bench: {name}", file=sys.stderr)
        return True

    if step("cold_start"):
        result["cold_start"] = pipeline.cold_start(photos_dir / ONE_FACE, 2 if quick else 7, settings)
    if step("warm"):
        result["warm"] = pipeline.warm_latency(photos, runs, settings)
    if step("throughput"):
        result["throughput"] = pipeline.throughput(photos[ONE_FACE], 1 if quick else 5, settings)
    if step("peers"):
        result["detector"] = peers.detector_peer(photos, runs, settings)
        result["peers"] = peers.detect_embed_peers(photos, runs, settings)
        result["faceanalysis_ratio"] = {
            photo: {"ratio_p50": result["peers"][photo]["ratio_vs_faceanalysis"]} for photo in photos
        }
    if step("search"):
        from frs.bench.search import search_scaling

        sizes = tuple(s for s in search_sizes if not quick or s <= 10_000)
        result["search"] = search_scaling(sizes, dims=(128, 512), runs=5 if quick else 20)
    result["aims"] = aims(result)
    return result


def aims(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each speed aim with the measured figure and whether this run met it (absent sections are left out)."""
    rows = []
    for name, path, comparison, target in AIMS:
        value: Any = result
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, int | float):
            continue
        met = value >= target if comparison == ">=" else value <= target
        rows.append({"aim": name, "measured": value, "met": bool(met)})
    return rows


def summary_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    cold = result.get("cold_start", {}).get("process_start_to_first_result", {})
    if cold:
        rows.append(("cold start, process start to first result", f"{cold['p50']} ms (min {cold['min']})"))
    for photo, ops in result.get("warm", {}).items():
        for op, stats in ops.items():
            rows.append((f"warm {op} {photo}", f"p50 {stats['p50']} ms, p95 {stats['p95']} ms"))
    for photo, ref in result.get("detector", {}).items():
        rows.append(
            (
                f"detect {photo}: SCRFD-2.5G / FRS",
                f"{ref['speedup_vs_scrfd_2.5g']}x ({ref['scrfd_2.5g']['p50']} vs {ref['frs']['p50']} ms)",
            )
        )
    for photo, ref in result.get("peers", {}).items():
        if not isinstance(ref, dict):
            continue
        rows.append(
            (
                f"detect+embed {photo}: FRS / FaceAnalysis, FRS / face_recognition",
                f"{ref['ratio_vs_faceanalysis']}, {ref['ratio_vs_face_recognition']} ({ref['frs']['p50']} vs "
                f"{ref['faceanalysis']['p50']} vs {ref['face_recognition']['p50']} ms)",
            )
        )
    tp = result.get("throughput")
    if tp:
        rows.append(
            (
                "throughput detect+embed, 1 face",
                f"{tp['images_per_second']} images/s on {tp['workers']} workers",
            )
        )
    for key, stats in result.get("search", {}).items():
        rows.append((f"search {key}", f"p50 {stats['p50']} ms"))
    for aim in result.get("aims", []):
        rows.append((f"aim: {aim['aim']}", f"{aim['measured']} ({'met' if aim['met'] else 'NOT met'})"))
    return rows
