"""Pipeline benchmarks: cold start in separate processes, warm latency and multi-core throughput (the peers
FRS is compared with are in :mod:`frs.bench.peers`)."""

from __future__ import annotations

import functools
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from frs.bench.stats import summarize, time_calls
from frs.config import REPO_ROOT, Settings
from frs.pipeline.analyzer import load_analyzer
from frs.service import FaceService


def cold_start(image: Path, runs: int, settings: Settings) -> dict[str, Any]:
    """Process start to first detect result (not to the process's exit), each run a new interpreter importing
    ``handler``."""
    env = {
        **os.environ,
        "FRS_PACK": settings.pack,
        "FRS_MODELS_DIR": str(settings.models_dir),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO_ROOT),
    }
    walls, inits, firsts = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryFile("w+") as errors:
            started = time.perf_counter()
            with subprocess.Popen(
                [sys.executable, "-m", "frs.bench.cold_probe", str(image)],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
                cwd=REPO_ROOT,
            ) as process:
                assert process.stdout is not None
                probe, answered = None, 0.0
                # Log lines may come first; the probe flushes its own line the moment it has the answer.
                for line in process.stdout:
                    if line.startswith('{"init_ms"'):
                        answered = time.perf_counter()
                        probe = json.loads(line)
                        break
                process.communicate(timeout=300)
            if process.returncode != 0 or probe is None:
                errors.seek(0)
                tail = errors.read()[-2000:]
                raise RuntimeError(f"the cold-start probe failed ({process.returncode}): {tail}")
        walls.append(answered - started)
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
    # Spawned, not forked: a fork of a process whose OpenCV and onnxruntime thread pools have run inherits
    # their locks but not their threads, and OpenCV's DNN engine then waits forever in the child.
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("spawn")) as pool:
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
