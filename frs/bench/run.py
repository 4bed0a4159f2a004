"""Assemble one ``frs bench`` run into a JSON document (and a printed table)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from frs.bench import pipeline
from frs.config import Settings
from frs.evaluation.report import machine_info

ONE_FACE = "person_b_1.jpg"
GROUP = "solvay_conference_1927.jpg"


def run_bench(
    settings: Settings,
    photos_dir: Path,
    *,
    quick: bool = False,
    search_sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000),
) -> dict[str, Any]:
    """Every section of the bench on this machine; ``quick`` uses few runs (smoke tests, not figures)."""
    photos = {name: (photos_dir / name).read_bytes() for name in (ONE_FACE, GROUP)}
    runs = 3 if quick else 15
    result: dict[str, Any] = {"pack": {"name": settings.pack}, "machine": machine_info(), "quick": quick}

    def step(name: str) -> None:
        print(f"bench: {name}", file=sys.stderr)

    step("cold start")
    result["cold_start"] = pipeline.cold_start(photos_dir / ONE_FACE, 2 if quick else 7, settings)
    step("warm latency")
    result["warm"] = pipeline.warm_latency(photos, runs, settings)
    step("throughput")
    result["throughput"] = pipeline.throughput(photos[ONE_FACE], 1 if quick else 5, settings)
    step("FaceAnalysis reference")
    result["faceanalysis_ratio"] = pipeline.faceanalysis_reference(photos, runs, settings)
    step("search")
    from frs.bench.search import search_scaling

    sizes = tuple(s for s in search_sizes if not quick or s <= 10_000)
    result["search"] = search_scaling(sizes, dims=(128, 512), runs=5 if quick else 20)
    return result


def summary_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    cold = result.get("cold_start", {}).get("process_start_to_first_result", {})
    if cold:
        rows.append(("cold start, process start to first result", f"{cold['p50']} ms (min {cold['min']})"))
    for photo, ops in result.get("warm", {}).items():
        for op, stats in ops.items():
            rows.append((f"warm {op} {photo}", f"p50 {stats['p50']} ms, p95 {stats['p95']} ms"))
    for photo, ref in result.get("faceanalysis_ratio", {}).items():
        rows.append(
            (
                f"FRS / FaceAnalysis {photo}",
                f"{ref['ratio_p50']} ({ref['frs']['p50']} vs {ref['faceanalysis']['p50']} ms)",
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
    return rows
