"""Time export, import and copy of a synthetic gallery: SQLite on S3 (a moto server) -> pgvector (pgserver).

    PYTHONPATH=. .venv/bin/python scripts/bench_transfer.py --faces 100000 [--dim 512] [--build-memory 1GB]
        [--out FILE]

1. Builds a SQLite gallery of N clustered synthetic unit vectors (``frs.gallery.search.synthetic``) on a
   moto S3 bucket, in one ``import_records`` write (set-up, not timed).
2. Each step then runs in its own process, so its peak RSS (``VmHWM``) is its own:
   ``export`` (S3 gallery -> gzip JSON Lines file), ``import`` (that file -> an empty pgvector database; the
   check pass and the write pass), ``copy`` (S3 gallery -> another empty pgvector database, chunks of 5,000
   faces, with the final checksum verification of both sides).
Prints one JSON object per step and a summary table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from frs.config import Settings
from frs.gallery.factory import open_gallery
from frs.gallery.search.synthetic import clustered_gallery
from frs.gallery.types import FaceRecord, Identity, StoredFace
from frs.packs.info import PackInfo

GALLERY = "bench"
CREATED = "2026-01-01T00:00:00.000Z"


def _settings(uri: str, cache: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), gallery_uri=uri, cache_dir=cache, sync_ttl=0.0)


def _records(n_faces: int, pack: PackInfo) -> Iterator[Identity | StoredFace]:
    data = clustered_gallery(n_faces, pack.dim, n_queries=2, seed=1).data
    for name in data.names:
        yield Identity(name=name, metadata={"n": name}, created_at=CREATED, updated_at=CREATED, face_count=0)
    ends = [*data.starts.tolist()[1:], n_faces]
    rng = np.random.default_rng(2)
    for owner, (start, end) in enumerate(zip(data.starts.tolist(), ends, strict=True)):
        for row in range(start, end):
            record = FaceRecord(
                face_id=str(_uuid(rng)),
                identity=data.names[owner],
                pack=pack.name,
                dim=pack.dim,
                det_score=0.9,
                bbox=(1.0, 2.0, 100.0, 120.0),
                image_sha256=f"{row:064x}",
                created_at=CREATED,
                source=f"s3://photos/{row}.jpg",
                quality=0.8,
            )
            yield StoredFace(record=record, embedding=data.embeddings[row])


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _step(args: argparse.Namespace) -> dict[str, Any]:
    """One timed step in this (child) process."""
    from frs.gallery.transfer.copy import copy_gallery
    from frs.gallery.transfer.importer import import_export
    from frs.gallery.transfer.writer import export_to_path

    cache = Path(args.work) / f"cache-{args.step}"
    started = time.perf_counter()
    if args.step == "export":
        summary = export_to_path(open_gallery(GALLERY, _settings(args.source, cache)), Path(args.file))
        detail: dict[str, Any] = {"faces": summary.faces, "file_bytes": Path(args.file).stat().st_size}
    elif args.step == "import":
        report = import_export(open_gallery(GALLERY, _settings(args.target, cache)), Path(args.file))
        detail = {"faces": report.faces_added}
    else:
        source = open_gallery(GALLERY, _settings(args.source, cache))
        target = open_gallery(GALLERY, _settings(args.target, cache / "target"))
        copied = copy_gallery(source, target)
        detail = {"faces": copied.faces_added, "chunks": copied.chunks_written}
    seconds = time.perf_counter() - started
    return {"step": args.step, "seconds": round(seconds, 1), "peak_rss_mib": _peak_rss_mib(), **detail}


def _peak_rss_mib() -> int:
    """This process's peak resident memory (VmHWM). Not ``getrusage``'s ru_maxrss: Linux carries the
    parent's high-water mark over a fork + exec, which would report the parent's memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) // 1024


def _run_child(step: str, **paths: str) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--step", step]
    for key, value in paths.items():
        argv += [f"--{key}", value]
    out = subprocess.run(argv, check=False, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        raise SystemExit(f"step {step} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--out", help="also write the results as JSON here")
    parser.add_argument(
        "--steps", default="export,import,copy", help="which steps to time (default: export,import,copy)"
    )
    parser.add_argument(
        "--build-memory",
        help="FRS_PG_INDEX_BUILD_MEMORY for the import and copy (the HNSW build at their end), e.g. 1GB",
    )
    parser.add_argument("--step", choices=["export", "import", "copy"], help=argparse.SUPPRESS)
    for name in ("source", "target", "file", "work"):
        parser.add_argument(f"--{name}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args)))
        return

    from harness.postgres import start_pg_server
    from harness.s3 import start_moto_endpoint

    s3 = start_moto_endpoint()
    pg = start_pg_server()
    work = Path(tempfile.mkdtemp(prefix="frs-bench-transfer-"))
    try:
        for name, value in s3.env().items():
            os.environ[name] = value
        # A multi-GB SQLite file crosses the moto server in one request: the default read timeout is short.
        os.environ.setdefault("FRS_S3_READ_TIMEOUT", "900")
        if args.build_memory:
            os.environ["FRS_PG_INDEX_BUILD_MEMORY"] = args.build_memory
        bucket = s3.create_bucket()
        source = f"s3://{bucket}/galleries"
        pack = PackInfo(name="bench-pack", dim=args.dim)
        started = time.perf_counter()
        gallery = open_gallery(GALLERY, _settings(source, work / "cache-build"))
        gallery.import_records(lambda: _records(args.faces, pack), pack=pack)
        print(f"built {args.faces} faces on S3 in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        export_file = str(work / "bench.frs.jsonl.gz")
        steps = set(args.steps.split(","))
        results = []
        if steps & {"export", "import"}:
            results.append(_run_child("export", source=source, file=export_file, work=str(work)))
        if "import" in steps:
            target = pg.create_database("bench")
            results.append(_run_child("import", target=target, file=export_file, work=str(work)))
        if "copy" in steps:
            target = pg.create_database("bench")
            results.append(_run_child("copy", source=source, target=target, work=str(work)))
        summary = {
            "faces": args.faces,
            "dim": args.dim,
            "index_build_memory": os.environ.get("FRS_PG_INDEX_BUILD_MEMORY"),
            "steps": results,
        }
        print(f"\n{args.faces} faces, {args.dim}-d (SQLite on moto S3 -> pgvector on pgserver):")
        for r in results:
            print(f"  {r['step']:<7} {r['seconds']:>8.1f} s   peak RSS {r['peak_rss_mib']:>6} MiB")
        if args.out:
            Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        pg.close()
        s3.stop()


if __name__ == "__main__":
    main()
