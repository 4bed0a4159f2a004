"""Indexing throughput: photos/s through the index queue at 1, 2 and 4 worker processes polling moto SQS,
for SQLite galleries in (moto) S3 and for pgvector (pgserver), with the If-Match races lost (S3 412s).

    .venv/bin/python scripts/bench_index.py [--dataset ../shared/datasets/lfw-dev] [--photos 5000]
        [--workers 1 2 4] [--batch-size 50]
        [--backends s3 pgvector] [--e2e-photos 200] [--json out.json]

Photos: the first ``--photos`` of lfw-dev (../shared/datasets/lfw-dev, ``<identity>/<photo>``) uploaded to a
moto bucket as ``archive/<identity>/<photo>``; never copied into the repository.

Two measurements:

* **writes** (the scaling runs): the workers run the real worker code (read each photo from S3, one
  ``add_faces`` per batch, result documents, SQS delete) but the face pipeline is replaced by a stand-in
  that returns a unit vector derived from the photo's sha256, so the 2 shared cores of this machine measure
  the queue, S3 and gallery writes instead of ONNX inference (stated in the README);
* **end to end**: ``--e2e-photos`` photos with the real pipeline (detection, alignment, embedding), 1 worker.

moto serialises its requests (harness/s3.py, for atomic If-Match), so every figure here includes one
single-threaded moto serving photo reads, gallery uploads and SQS for all workers together.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import REPO_ROOT, Settings
from frs.gallery.types import NewFace
from frs.indexing.jobs import JobStore
from frs.indexing.messages import Batch
from frs.indexing.report import report
from frs.indexing.submit import IndexRequest, submit

DATASET = REPO_ROOT.parent / "shared" / "datasets" / "lfw-dev"  # beside the checkout: ../shared


def stand_in(dim: int) -> Any:
    def prepare(image: bytes, batch: Batch) -> NewFace:
        digest = hashlib.sha256(image).hexdigest()
        vector = np.random.default_rng(int(digest[:16], 16)).standard_normal(dim).astype(np.float32)
        return NewFace(vector / np.linalg.norm(vector), 0.9, (10.0, 10.0, 120.0, 140.0), digest)

    return prepare


def worker(settings: Settings, queue_url: str, queue_arn: str, real: bool, gallery: str, out: Any) -> None:
    from frs.gallery.file.sync import SyncedGallery
    from frs.indexing.worker import IndexWorker
    from frs.service import FaceService
    from harness.index_queue import poll_once

    service = FaceService(settings)
    dim = service.analyzer.pack.dim
    index = IndexWorker(service, prepare=None if real else stand_in(dim))
    from frs import aws

    sqs = aws.client("sqs", settings)
    out.put(("ready", 0))
    idle, seen = 0, 0
    while idle < (3 if seen else 60):  # until the queue stays empty after the job arrived
        got = poll_once(sqs, queue_url, queue_arn, index.handle, batch_size=1, wait=1)
        seen += got
        idle = 0 if got else idle + 1
    store = service.gallery(gallery)
    out.put(("lost_races", store.lost_races if isinstance(store, SyncedGallery) else 0))


def upload(endpoint: Any, bucket: str, photos: int, dataset: Path = DATASET) -> int:
    from concurrent.futures import ThreadPoolExecutor

    files = sorted(dataset.glob("*/*.jpg"))[:photos]
    if not files:
        raise SystemExit(f"no photos under {dataset} (DATASET/<identity>/<photo>.jpg): pass --dataset")
    client = endpoint.client()

    def put(path: Path) -> None:
        client.put_object(
            Bucket=bucket, Key=f"archive/{path.parent.name}/{path.name}", Body=path.read_bytes()
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, files))
    return len(files)


def run(
    base: Settings,
    endpoint: Any,
    bucket: str,
    gallery_uri: str,
    workers: int,
    real: bool,
    batch: int,
    prefix: str = "archive",
) -> dict[str, Any]:
    from harness.index_queue import create_index_queue

    queue = create_index_queue(endpoint, max_receive_count=10, visibility=120)
    gallery = f"bench-{uuid.uuid4().hex[:8]}"
    settings = dataclasses.replace(
        base, gallery_uri=gallery_uri, index_queue_url=queue.url, index_jobs_uri=f"s3://{bucket}/index-jobs"
    )
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = []
    for i in range(workers):
        own = dataclasses.replace(settings, cache_dir=Path(f"/tmp/frs-bench-index/{gallery}/w{i}"))
        procs.append(ctx.Process(target=worker, args=(own, queue.url, queue.arn, real, gallery, out)))
    for proc in procs:
        proc.start()
    for _ in procs:
        out.get()  # models loaded: time only the indexing
    started = time.perf_counter()
    job = submit(settings, IndexRequest(gallery=gallery, source=f"s3://{bucket}/{prefix}", batch_size=batch))
    lost = 0
    for _ in procs:
        lost += out.get()[1]
    for proc in procs:
        proc.join()
    jobs = JobStore.from_settings(settings)
    final = report(jobs, job["job"])
    documents = [jobs.result(job["job"], n) for n in sorted(jobs.done_batches(job["job"]))]
    writes = [d["write_seconds"] for d in documents if d]
    # Per photo, the batch's time outside its gallery write: reading the photo and analysing it.
    analysed = sum(d["seconds"] - d["write_seconds"] for d in documents if d)
    gallery_bytes = None
    if gallery_uri.startswith("s3://"):
        head = endpoint.client().head_object(Bucket=bucket, Key=f"galleries/{gallery}.sqlite")
        gallery_bytes = int(head["ContentLength"])
    # Wall time: submission start to the last batch's result (the workers' 3 idle polls excluded).
    last = max(d["finished_at"] for d in documents if d)
    from datetime import datetime

    def at(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    wall = at(last) - at(final["created_at"]) + 0.0
    del started
    return {
        "workers": workers,
        "real_embedding": real,
        "photos": final["photos"],
        "in_gallery": final["in_gallery"],
        "counts": {k: v for k, v in final["counts"].items() if v},
        "batches": final["batches"],
        "batches_redelivered": final["batches_redelivered"],
        "seconds": round(wall, 1),
        "photos_per_second": round(final["photos"] / wall, 1),
        "write_seconds_mean": round(float(np.mean(writes)), 3),
        "write_seconds_p90": round(float(np.percentile(writes, 90)), 3),
        "lost_races_412": lost,
        "read_and_analyse_seconds_per_photo": round(analysed / max(1, final["photos"]), 4),
        "gallery_bytes": gallery_bytes,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, default=DATASET, help="DATASET/<identity>/<photo>.jpg")
    parser.add_argument("--photos", type=int, default=5000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--backends", nargs="+", default=["s3", "pgvector"])
    parser.add_argument("--e2e-photos", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from harness.postgres import start_pg_server
    from harness.s3 import start_moto_endpoint

    endpoint = start_moto_endpoint()
    for name, value in endpoint.env().items():
        os.environ[name] = value
    pg = start_pg_server() if "pgvector" in args.backends else None
    base = dataclasses.replace(
        Settings.from_env(),
        pack="open",
        threads=1,
        sync_ttl=0.0,
        aws_endpoint_url=endpoint.url,
        aws_region="us-east-1",
    )
    results: dict[str, Any] = {"photos_requested": args.photos, "batch_size": args.batch_size, "runs": []}
    try:
        bucket = endpoint.create_bucket()
        uploaded = upload(endpoint, bucket, args.photos, args.dataset)
        print(f"uploaded {uploaded} lfw-dev photos", file=sys.stderr, flush=True)
        for backend in args.backends:
            for workers in args.workers:
                uri = f"s3://{bucket}/galleries" if backend == "s3" else pg.create_database("frs_bench")  # type: ignore[union-attr]
                figure = {
                    "backend": backend,
                    **run(base, endpoint, bucket, uri, workers, False, args.batch_size),
                }
                print(json.dumps(figure), flush=True)
                results["runs"].append(figure)
        if args.e2e_photos:
            client = endpoint.client()
            listing = client.list_objects_v2(Bucket=bucket, Prefix="archive/", MaxKeys=args.e2e_photos)
            for item in listing.get("Contents", []):
                client.copy_object(
                    Bucket=bucket,
                    Key="e2e/" + item["Key"][len("archive/") :],
                    CopySource={"Bucket": bucket, "Key": item["Key"]},
                )
            uri = f"s3://{bucket}/galleries"
            figure = {
                "backend": "s3",
                **run(base, endpoint, bucket, uri, 1, True, args.batch_size, prefix="e2e"),
            }
            print(json.dumps(figure), flush=True)
            results["runs"].append(figure)
    finally:
        if pg is not None:
            pg.close()
        endpoint.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
