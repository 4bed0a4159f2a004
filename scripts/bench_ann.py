"""Exact numpy search vs the HNSW index (USearch) on clustered synthetic galleries.

    .venv/bin/python scripts/bench_ann.py [--sizes 100000 1000000] [--dims 128 512] [--queries 200]
        [--top-k 5] [--patch 100] [--json out.json]

For each size x dim (data: :mod:`frs.gallery.search.synthetic`, half genuine / half unknown queries) it
reports: exact single-query latency (p50) and matrix size; index build time (all cores), file size, time to
map the file (cold start) and the first query after mapping, single-query latency p50 and recall@5 against
exact search (overall, genuine, unknown), how many queries fell back to exact; and a writer's incremental
update: load a mutable copy, remove and insert ``--patch`` faces each, write the file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.gallery.search.ann import index as ann_index
from frs.gallery.search.ann.index import IndexHeader
from frs.gallery.search.ann.keys import KeyLookup, keys_from_face_ids
from frs.gallery.search.ann.matcher import AnnMatcher
from frs.gallery.search.exact import Matcher
from frs.gallery.search.synthetic import clustered_gallery


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def random_keys(n: int, seed: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    rng = np.random.default_rng(seed)
    ids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]
    return keys_from_face_ids(ids)


def latencies(search: Any, queries: np.ndarray[Any, Any], top_k: int) -> tuple[list[Any], list[float]]:
    results, timings = [], []
    for query in queries:
        start = time.perf_counter()
        results.append(search(query[None, :], top_k)[0])
        timings.append((time.perf_counter() - start) * 1000)
    return results, timings


def recall(expected: list[Any], got: list[Any], top_k: int) -> float:
    hits = [
        len({c.name for c in e} & {c.name for c in g}) / min(top_k, len(e))
        for e, g in zip(expected, got, strict=True)
    ]
    return float(np.mean(hits))


def top1(expected: list[Any], got: list[Any]) -> float:
    """Share of queries whose best identity is the exact search's best identity."""
    return float(np.mean([e[0].name == g[0].name for e, g in zip(expected, got, strict=True)]))


def bench(n: int, dim: int, n_queries: int, top_k: int, patch_size: int, efs: list[int]) -> dict[str, Any]:
    synthetic = clustered_gallery(n, dim, n_queries=n_queries, seed=n + dim)
    data, queries = synthetic.data, synthetic.queries
    exact = Matcher(data)
    exact.search(queries[:2], top_k)  # warm-up
    expected, exact_ms = latencies(exact.search, queries, top_k)

    keys = random_keys(n, seed=1)
    rss_before = rss_mb()
    start = time.perf_counter()
    index = ann_index.build(data.embeddings, keys)
    build_s = time.perf_counter() - start
    build_rss = rss_mb() - rss_before
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.ann"
        header = IndexHeader(tag="bench", dim=dim, count=n, removed_since_build=0)
        start = time.perf_counter()
        ann_index.write_file(path, header, index)
        write_s = time.perf_counter() - start
        del index
        file_mb = path.stat().st_size / 2**20
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # best effort: start with cold pages
        os.close(fd)
        start = time.perf_counter()
        loaded = ann_index.open_file(path, dim)
        assert loaded is not None
        lookup = KeyLookup(keys)
        matcher = AnnMatcher(data, loaded.index, lookup, tag="bench")
        map_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        matcher.search(queries[:1], top_k)
        first_ms = (time.perf_counter() - start) * 1000
        half = n_queries // 2
        sweep = []
        for ef in efs:
            setattr(loaded.index, "expansion_search", ef)  # noqa: B010 - typed as read-only, settable
            matcher.exact_fallbacks = 0
            got, ann_ms = latencies(matcher.search, queries, top_k)
            sweep.append(
                {
                    "expansion_search": ef,
                    "ann_p50_ms": round(statistics.median(ann_ms), 3),
                    "ann_p90_ms": round(sorted(ann_ms)[int(0.9 * (len(ann_ms) - 1))], 3),
                    "recall_at_5": round(recall(expected, got, top_k), 4),
                    "recall_genuine": round(recall(expected[:half], got[:half], top_k), 4),
                    "recall_unknown": round(recall(expected[half:], got[half:], top_k), 4),
                    "top1_genuine": round(top1(expected[:half], got[:half]), 4),
                    "exact_fallbacks": matcher.exact_fallbacks,
                }
            )

        # A writer's update: drop patch_size faces, add patch_size new ones, write the file again.
        start = time.perf_counter()
        mutable = ann_index.load_mutable(loaded)
        load_mutable_s = time.perf_counter() - start
        rng = np.random.default_rng(3)
        drop = rng.choice(n, patch_size, replace=False)
        new_keys = keys.copy()
        new_keys[drop] = random_keys(patch_size, seed=4)  # same vectors under new face ids: remove + insert
        new_lookup = KeyLookup(new_keys)
        start = time.perf_counter()
        removed, added = ann_index.diff(mutable, new_lookup)
        ann_index.patch(mutable, data.embeddings, new_lookup, removed, added)
        patch_s = time.perf_counter() - start
        start = time.perf_counter()
        ann_index.write_file(Path(tmp) / "patched.ann", header, mutable)
        rewrite_s = time.perf_counter() - start
    return {
        "faces": n,
        "identities": len(data.names),
        "dim": dim,
        "exact_p50_ms": round(statistics.median(exact_ms), 3),
        "matrix_mb": round(data.embeddings.nbytes / 2**20, 1),
        "policy_expansion_search": ann_index.expansion_search_for(n, dim),
        "ann": sweep,
        "build_s": round(build_s, 1),
        "build_rss_mb": round(build_rss, 1),
        "write_s": round(write_s, 2),
        "file_mb": round(file_mb, 1),
        "map_ms": round(map_ms, 1),
        "first_query_ms": round(first_ms, 2),
        "load_mutable_s": round(load_mutable_s, 2),
        "patch_faces": int(removed.size + added.size),
        "patch_s": round(patch_s, 3),
        "rewrite_s": round(rewrite_s, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--patch", type=int, default=100)
    parser.add_argument(
        "--efs", type=int, nargs="+", default=[512, 1024, 2048], help="expansion_search values"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    rows = []
    for dim in args.dims:
        for n in args.sizes:
            row = bench(n, dim, args.queries, args.top_k, args.patch, args.efs)
            print(json.dumps(row), file=sys.stderr, flush=True)  # progress: each row as soon as it is done
            rows.append(row)
    print(
        f"{'faces':>9} {'dim':>4} {'ef':>5} {'exact p50':>9} {'ann p50':>8} {'recall@5':>8} {'gen/unk':>11} "
        f"{'build s':>8} {'file MB':>8} {'map ms':>7} {'1st q ms':>8} {'patch s':>8} {'rewrite s':>9}"
    )
    for r in rows:
        for a in r["ann"]:
            print(
                f"{r['faces']:>9,} {r['dim']:>4} {a['expansion_search']:>5} {r['exact_p50_ms']:>9.2f} "
                f"{a['ann_p50_ms']:>8.2f} {a['recall_at_5']:>8.4f} "
                f"{a['recall_genuine']:>5.3f}/{a['recall_unknown']:<5.3f} "
                f"{r['build_s']:>8.1f} {r['file_mb']:>8.1f} {r['map_ms']:>7.1f} {r['first_query_ms']:>8.2f} "
                f"{r['load_mutable_s'] + r['patch_s']:>8.2f} {r['rewrite_s']:>9.2f}"
            )
    report = {
        "results": rows,
        "top_k": args.top_k,
        "queries": args.queries,
        "cpu_count": os.cpu_count(),
        "usearch": version("usearch"),
        "numpy": np.__version__,
        "params": {
            "dtype": ann_index.DTYPE,
            "connectivity": ann_index.CONNECTIVITY,
            "expansion_add": ann_index.EXPANSION_ADD,
            "expansion_search": [ann_index.EXPANSION_SEARCH, ann_index.EXPANSION_SEARCH_LARGE],
        },
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
