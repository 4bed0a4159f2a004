"""Search-only latency and memory of the exact in-memory matcher on synthetic galleries, and the cold path
(SQLite gallery file -> matcher) a fresh Lambda container pays once per gallery version."""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from frs.bench.stats import summarize
from frs.gallery.file.store import open_snapshot, open_working_copy
from frs.gallery.search.exact import Matcher
from frs.gallery.search.matrix import MatrixData
from frs.gallery.types import NewFace
from frs.packs.info import PackInfo


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def unit_matrix(n: int, dim: int, seed: int) -> np.ndarray:
    """n random unit vectors, generated in chunks so peak memory stays near the result's size."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 65536):
        block = rng.standard_normal((min(65536, n - start), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(block)] = block
    return out


def bench_search(n: int, dim: int, runs: int, top_k: int) -> dict[str, Any]:
    before = rss_bytes()
    embeddings = unit_matrix(n, dim, seed=n + dim)
    matcher = Matcher(
        MatrixData(
            embeddings=embeddings, starts=np.arange(n, dtype=np.int64), names=[f"id-{i}" for i in range(n)]
        )
    )
    grown = rss_bytes() - before
    query = unit_matrix(1, dim, seed=1)
    for _ in range(2):
        matcher.search(query, top_k)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        matcher.search(query, top_k)
        timings.append(time.perf_counter() - start)
    result = {
        "identities": n,
        "dim": dim,
        "top_k": top_k,
        **summarize(timings, digits=3),  # sub-millisecond searches need three decimals
        "matrix_mb": round(embeddings.nbytes / 2**20, 1),
        "matcher_mb": round(matcher.nbytes() / 2**20, 1),
        "rss_growth_mb": round(grown / 2**20, 1),
    }
    del matcher, embeddings
    gc.collect()
    return result


def bench_cold_load(n: int, dim: int) -> dict[str, Any]:
    """Time to read n embeddings from a gallery file into a matcher (file written beforehand, not timed)."""
    pack = PackInfo(name="bench", dim=dim)
    embeddings = unit_matrix(n, dim, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        db = open_working_copy(path, "bench")
        for start in range(0, n, 10000):
            items = [
                (
                    f"id-{i}",
                    NewFace(embeddings[i], 0.9, (0.0, 0.0, 1.0, 1.0), f"{i:064x}"),
                    None,
                )
                for i in range(start, min(n, start + 10000))
            ]
            db.add_faces(items, pack)
        db.close()
        size = path.stat().st_size
        start_time = time.perf_counter()
        snapshot = open_snapshot(path, "bench")
        matcher = Matcher(snapshot.load_matrix())
        elapsed = time.perf_counter() - start_time
        snapshot.close()
    assert matcher.face_count == n
    return {
        "identities": n,
        "dim": dim,
        "file_mb": round(size / 2**20, 1),
        "load_ms": round(elapsed * 1000, 1),
    }


def search_scaling(
    sizes: tuple[int, ...], dims: tuple[int, ...], runs: int, top_k: int = 10
) -> list[dict[str, Any]]:
    """One :func:`bench_search` row per dim and size (identities of one face each)."""
    return [bench_search(n, dim, runs, top_k) for dim in dims for n in sizes]
