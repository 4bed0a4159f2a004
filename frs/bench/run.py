"""Assemble one ``frs bench`` run into a JSON document (and a printed table)."""

from __future__ import annotations

import sys
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frs.bench import SECTIONS, peers, pipeline
from frs.config import Settings
from frs.evaluation.machine import machine_info, utc_now
from frs.packs.manifest import load_manifest

ONE_FACE = "person_b_1.jpg"
GROUP = "solvay_conference_1927.jpg"

SCHEMA = "frs-bench/2"


@dataclass(frozen=True)
class Aim:
    """A speed aim (issue 13, default pack): where its figure is in the result, and how it must compare."""

    name: str
    path: tuple[str, ...]
    comparison: str  # ">=" or "<="
    target: float
    unit: str  # "x" for a ratio, "ms" for a time

    def met(self, value: float) -> bool:
        return value >= self.target if self.comparison == ">=" else value <= self.target


AIMS: tuple[Aim, ...] = (
    Aim(
        "detect 1 face: SCRFD-2.5G time / FRS time",
        ("detector", "photos", ONE_FACE, "speedup_vs_scrfd_2.5g"),
        ">=",
        3.0,
        "x",
    ),
    Aim(
        "detect+embed 1 face: FRS time / FaceAnalysis time",
        ("peers", "photos", ONE_FACE, "ratio_vs_faceanalysis"),
        "<=",
        0.5,
        "x",
    ),
    Aim(
        "detect+embed 1 face: FRS time / face_recognition time",
        ("peers", "photos", ONE_FACE, "ratio_vs_face_recognition"),
        "<=",
        0.2,
        "x",
    ),
    Aim(
        "detect+embed Solvay (group photo): FRS time / FaceAnalysis time",
        ("peers", "photos", GROUP, "ratio_vs_faceanalysis"),
        "<=",
        0.8,
        "x",
    ),
    Aim(
        "cold start, process start to first result (p50)",
        ("cold_start", "process_start_to_first_result", "p50_ms"),
        "<=",
        400.0,
        "ms",
    ),
)


def _pack(settings: Settings) -> dict[str, Any]:
    manifest = load_manifest(settings.pack, settings.models_dir)
    return {
        "name": manifest.name,
        "dim": manifest.recognizer.dim,
        "detector": manifest.detector.file,
        "landmarker": None if manifest.landmarker is None else manifest.landmarker.file,
        "recognizer": manifest.recognizer.file,
    }


def run_bench(
    settings: Settings,
    photos_dir: Path,
    *,
    quick: bool = False,
    search_sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000),
    skip: Collection[str] = (),
    command: str = "",
) -> dict[str, Any]:
    """Every section of the bench on this machine but those in ``skip``; ``quick`` uses few runs (smoke
    tests, not figures). The result records when, where and by which command it was measured."""
    unknown = set(skip) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown bench sections {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    started, clock = utc_now(), time.perf_counter()
    photos = {name: (photos_dir / name).read_bytes() for name in (ONE_FACE, GROUP)}
    runs = 3 if quick else 15
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "measured_at": started,
        "command": command,
        "machine": machine_info(),
        "pack": _pack(settings),
        "quick": quick,
        "runs_per_timing": runs,
        "skipped": sorted(skip),
    }

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
    if step("search"):
        from frs.bench.search import search_scaling

        sizes = tuple(s for s in search_sizes if not quick or s <= 10_000)
        result["search"] = search_scaling(sizes, dims=(128, 512), runs=5 if quick else 20)
    result["aims"] = aims(result)
    result["duration_s"] = round(time.perf_counter() - clock, 1)
    return result


def _lookup(result: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = result
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def aims(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each speed aim with the measured figure and whether this run met it (absent sections are left out)."""
    rows = []
    for aim in AIMS:
        value = _lookup(result, aim.path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        rows.append(
            {
                "aim": aim.name,
                "comparison": aim.comparison,
                "target": aim.target,
                "unit": aim.unit,
                "measured": value,
                "met": aim.met(value),
            }
        )
    return rows


def summary_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run in a few lines for the terminal (report.md has the full tables)."""
    rows = []
    cold = _lookup(result, ("cold_start", "process_start_to_first_result"))
    if cold:
        rows.append(("cold start, process start to first result", f"p50 {cold['p50_ms']} ms"))
    for photo, ops in (result.get("warm") or {}).items():
        for op, stats in ops.items():
            rows.append((f"warm {op} {photo}", f"p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms"))
    tp = result.get("throughput")
    if tp:
        rows.append(
            (
                "throughput detect+embed, 1 face",
                f"{tp['images_per_second']} images/s, {tp['workers']} workers",
            )
        )
    for row in result.get("search") or []:
        rows.append((f"search {row['identities']} x {row['dim']}", f"p50 {row['p50_ms']} ms"))
    for aim in result.get("aims", []):
        verdict = "met" if aim["met"] else "NOT met"
        target = f"{aim['comparison']} {aim['target']:g} {aim['unit']}"
        rows.append((f"aim: {aim['aim']}", f"{aim['measured']} {aim['unit']} ({verdict}; aim {target})"))
    return rows
