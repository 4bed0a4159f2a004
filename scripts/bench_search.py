"""Search-only latency and memory of the in-memory matcher on synthetic galleries.

    .venv/bin/python scripts/bench_search.py [--sizes 1000 10000 100000 1000000] [--dims 128 512]
        [--runs 15] [--top-k 10] [--load-sizes 10000 100000] [--json out.json]

For each size x dim: one face per identity, random unit vectors, one query; reports the median (and p90) of
``--runs`` timed searches after a warm-up, the matcher's own memory and the process RSS growth. With
``--load-sizes`` it also times the cold path for those sizes: reading all embeddings from a gallery SQLite
file into a matcher (what a fresh Lambda container does once per gallery version).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.gallery.matcher import Matcher
from frs.gallery.sqlite_store import MatrixData, open_snapshot, open_working_copy
from frs.gallery.types import NewFace, PackInfo


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
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    result = {
        "identities": n,
        "dim": dim,
        "runs": runs,
        "median_ms": round(statistics.median(timings), 3),
        "p90_ms": round(timings[int(0.9 * (len(timings) - 1))], 3),
        "min_ms": round(timings[0], 3),
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--load-sizes", type=int, nargs="*", default=[])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("--runs must be at least 10 (medians of fewer runs are noise)")

    results = [bench_search(n, dim, args.runs, args.top_k) for dim in args.dims for n in args.sizes]
    print(
        f"{'identities':>11} {'dim':>4} {'median ms':>10} {'p90 ms':>8} {'matrix MB':>10} {'matcher MB':>11} "
        f"{'RSS+ MB':>8}"
    )
    for r in results:
        print(
            f"{r['identities']:>11,} {r['dim']:>4} {r['median_ms']:>10.2f} {r['p90_ms']:>8.2f} "
            f"{r['matrix_mb']:>10.1f} {r['matcher_mb']:>11.1f} {r['rss_growth_mb']:>8.1f}"
        )
    loads = [bench_cold_load(n, dim) for dim in args.dims for n in args.load_sizes]
    if loads:
        print(f"\n{'identities':>11} {'dim':>4} {'file MB':>8} {'load ms':>9}   (SQLite file -> matcher)")
        for r in loads:
            print(f"{r['identities']:>11,} {r['dim']:>4} {r['file_mb']:>8.1f} {r['load_ms']:>9.1f}")
    report = {
        "search": results,
        "cold_load": loads,
        "top_k": args.top_k,
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
