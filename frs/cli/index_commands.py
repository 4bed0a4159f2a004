"""``frs index``: index a photo archive through the index queue (the function enrols the batches).

* ``frs index s3://bucket/prefix --gallery G`` (or ``--manifest s3://bucket/list.csv``): list, record the job,
  send its batches, print the job id, then follow progress with a progress bar (``--no-follow``: return);
* ``frs index --resume JOB``: finish a submission that stopped midway (sends only the batches not yet sent),
  then follow it;
* ``frs index status JOB``: progress (batches and photos done, batches failing);
* ``frs index report JOB``: counts per outcome, failures (also ``<job>/failures.csv``), time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from frs.errors import FRSError
from frs.indexing.jobs import JobStore
from frs.indexing.messages import DEFAULT_BATCH_SIZE
from frs.indexing.report import report, status
from frs.indexing.submit import IndexRequest, resume, submit
from frs.service import FaceService

POLL_SECONDS = 2.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    index = sub.add_parser(
        "index",
        help="index a photo archive in S3 through the index queue",
        description="frs index s3://bucket/prefix (photos at <prefix>/<identity>/<photo>) or --manifest "
        "s3://bucket/list.csv (identity,key[,metadata]); frs index status JOB; frs index report JOB. Needs "
        "FRS_INDEX_QUEUE_URL and FRS_INDEX_JOBS_URI (the stack's outputs).",
    )
    index.add_argument(
        "words",
        nargs="*",
        metavar="SOURCE | status JOB | report JOB",
        help="s3://bucket/prefix to index, or status / report followed by a job id",
    )
    index.add_argument("--manifest", help="s3://bucket/key of a CSV: identity,key[,metadata]")
    index.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"photos per message, one gallery write each (default {DEFAULT_BATCH_SIZE})",
    )
    index.add_argument("--largest", action="store_true", help="enrol the largest face of group photos")
    index.add_argument(
        "--resume",
        metavar="JOB",
        help="send the batches of JOB its submission did not send (after a crash or Ctrl-C), then follow it",
    )
    index.add_argument("--no-follow", action="store_true", help="print the job and return at once")
    index.set_defaults(run=_run)


def _run(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    words = list(args.words)
    settings = service.settings
    if len(words) == 2 and words[0] in ("status", "report"):
        jobs = JobStore.from_settings(settings)
        return status(jobs, words[1]) if words[0] == "status" else report(jobs, words[1])
    if args.resume is not None and (words or args.manifest):
        raise FRSError("bad_request", "--resume JOB takes no SOURCE or --manifest: the job has its photos")
    if args.resume is None and (len(words) > 1 or (not words and not args.manifest)):
        raise FRSError(
            "bad_request", "usage: frs index SOURCE | --manifest URI | --resume JOB | status JOB | report JOB"
        )
    request = IndexRequest(
        gallery=args.gallery,
        source=words[0] if words else None,
        manifest=args.manifest,
        batch_size=args.batch_size,
        largest=args.largest,
    )

    def announce(job: dict[str, Any]) -> None:
        print(
            f"job {job['job']}: {job['photos']} photos in {len(job['batch_sizes'])} batches "
            f"({len(job['skipped'])} objects skipped)",
            file=sys.stderr,
            flush=True,
        )

    def sent(count: int, total: int) -> None:
        if count == total or count % 1000 < 10:
            print(f"sent {count}/{total} batches", file=sys.stderr, flush=True)

    if args.resume is not None:
        job = resume(settings, args.resume, on_job=announce, on_sent=sent)
        print(f"resumed: sent {job['resent']} batches", file=sys.stderr, flush=True)
    else:
        job = submit(settings, request, on_job=announce, on_sent=sent)
    jobs = JobStore.from_settings(settings)
    if args.no_follow:
        return status(jobs, job["job"])
    return follow(jobs, job["job"], job["photos"])


def follow(jobs: JobStore, job: str, total: int) -> dict[str, Any]:
    """A progress bar on stderr until every batch is done (Ctrl-C stops following, not the job)."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit="photo", file=sys.stderr, desc=job)
    try:
        while True:
            current = status(jobs, job)
            bar.update(current["photos_done"] - bar.n)
            bar.set_postfix(failing=len(current["batches_failing"]))
            if current["state"] == "done":
                break
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        print(f"\nstill running; frs index status {job}", file=sys.stderr)
    finally:
        bar.close()
    return report(jobs, job)
