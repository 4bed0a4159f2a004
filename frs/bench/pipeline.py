"""Pipeline benchmarks: cold start in separate processes, warm latency, multi-core throughput, and the same
detect+embed work through ``insightface.app.FaceAnalysis`` loaded with the same two model files."""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from frs.bench.stats import summarize, time_calls
from frs.config import REPO_ROOT, Settings
from frs.packs.manifest import load_manifest, weight_path
from frs.pipeline.analyzer import load_analyzer
from frs.service import FaceService


def cold_start(image: Path, runs: int, settings: Settings) -> dict[str, Any]:
    """Process start to first detect result, each run a new interpreter importing ``handler``."""
    env = {
        **os.environ,
        "FRS_PACK": settings.pack,
        "FRS_MODELS_DIR": str(settings.models_dir),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO_ROOT),
    }
    walls, inits, firsts = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "frs.bench.cold_probe", str(image)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=REPO_ROOT,
            timeout=300,
        )
        walls.append(time.perf_counter() - started)
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        inits.append(probe["init_ms"] / 1000)
        firsts.append(probe["first_request_ms"] / 1000)
    return {
        "process_start_to_first_result": summarize(walls),
        "init": summarize(inits),
        "first_request": summarize(firsts),
    }


def _distinct_adds(service: FaceService, data: bytes) -> Callable[[], object]:
    """Each call enrols new bytes (a counter appended after the image's end marker), so every add writes."""
    counter = itertools.count()

    def add() -> object:
        return service.add("bench", "probe", data + next(counter).to_bytes(8, "big"), largest=True)

    return add


def warm_latency(photos: dict[str, bytes], runs: int, settings: Settings) -> dict[str, Any]:
    """detect / add / identify per photo, through the service, on a throw-away local gallery."""
    with tempfile.TemporaryDirectory() as tmp:
        service = FaceService(
            Settings(**{**settings.__dict__, "gallery_uri": tmp, "cache_dir": Path(tmp) / "c"})
        )
        service.add("bench", "someone", next(iter(photos.values())), largest=True)  # a non-empty gallery
        results: dict[str, Any] = {}
        for label, data in photos.items():
            results[label] = {
                "detect": time_calls(functools.partial(service.detect, data), runs),
                "detect_embed": time_calls(functools.partial(service.analyzer.analyze, data), runs),
                "identify": time_calls(functools.partial(service.identify, "bench", data), runs),
                "add": time_calls(_distinct_adds(service, data), runs),
            }
    return results


def _throughput_worker(args: tuple[bytes, int, Settings]) -> int:
    data, count, settings = args
    analyzer = load_analyzer(settings)
    for _ in range(count):
        analyzer.analyze(data)
    return count


def throughput(image: bytes, seconds_hint: int, settings: Settings) -> dict[str, Any]:
    """Images/s for detect+embed with one single-threaded worker process per core."""
    cores = os.cpu_count() or 1
    single = Settings(**{**settings.__dict__, "threads": 1})
    per_worker = max(5, seconds_hint * 4)
    with ProcessPoolExecutor(max_workers=cores) as pool:
        list(pool.map(_throughput_worker, [(image, 1, single)] * cores))  # load models in every worker
        started = time.perf_counter()
        done = sum(pool.map(_throughput_worker, [(image, per_worker, single)] * cores))
        elapsed = time.perf_counter() - started
    return {
        "workers": cores,
        "images": done,
        "seconds": round(elapsed, 2),
        "images_per_second": round(done / elapsed, 2),
    }


def faceanalysis_reference(photos: dict[str, bytes], runs: int, settings: Settings) -> dict[str, Any]:
    """The same detect+embed through insightface's FaceAnalysis with the same model files (ratio FRS / FA)."""
    import warnings

    import cv2
    from insightface.app import FaceAnalysis

    warnings.filterwarnings("ignore", category=FutureWarning, module="insightface")

    manifest = load_manifest(settings.pack, settings.models_dir)
    analyzer = load_analyzer(settings)
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "models" / "frs"
        folder.mkdir(parents=True)
        for spec in (manifest.detector, manifest.recognizer):
            (folder / spec.file).symlink_to(weight_path(manifest, spec, settings.models_dir))
        app = FaceAnalysis(
            name=str(folder),  # a directory path: insightface loads it as is, never downloads
            allowed_modules=["detection", "recognition"],
            providers=["CPUExecutionProvider"],
        )
        app.prepare(ctx_id=-1, det_size=manifest.detector.input_size, det_thresh=settings.det_threshold)
        results: dict[str, Any] = {}
        for label, data in photos.items():
            # Both sides start from the encoded bytes, so decoding is inside both timings.
            def reference(d: bytes = data) -> list[Any]:
                return list(app.get(cv2.imdecode(np.frombuffer(d, np.uint8), cv2.IMREAD_COLOR)))

            fa = time_calls(reference, runs)
            frs = time_calls(functools.partial(analyzer.analyze, data), runs)
            results[label] = {
                "faceanalysis": fa,
                "frs": frs,
                "faces_fa": len(reference()),
                "faces_frs": len(analyzer.analyze(data).faces),
                "ratio_p50": round(frs["p50"] / fa["p50"], 3),
            }
    return results
