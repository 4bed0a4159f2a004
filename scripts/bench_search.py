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
import json
import os
import sys
from pathlib import Path

import numpy as np

from frs.bench.search import bench_cold_load, bench_search


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
        f"{'identities':>11} {'dim':>4} {'median ms':>10} {'p95 ms':>8} {'matrix MB':>10} {'matcher MB':>11} "
        f"{'RSS+ MB':>8}"
    )
    for r in results:
        print(
            f"{r['identities']:>11,} {r['dim']:>4} {r['p50_ms']:>10.2f} {r['p95_ms']:>8.2f} "
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
