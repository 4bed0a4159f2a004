"""The CCTV path's figures: latency per frame, per second of clip, and alerts for a burst of one person.

    .venv/bin/python scripts/bench_cctv.py [--threads 1] [--frames 20] [--clip-seconds 10] [--burst 50]
        [--instances 4] [--json out.json]

Everything runs through the Lambda application (``frs.api.app.Application``, what ``handler.py`` serves)
against a moto server on 127.0.0.1 (S3 for the camera objects, results and cooldown state; SNS with an SQS
queue subscribed for the alerts), with a local gallery of two real people (A watchlisted, B not):

* frames: ``--frames`` S3 events of one 1280x720 frame each (person A's photo pasted in, face ~150 px); the
  median and p95 of the invocation time, next to ``FaceService.identify`` alone on the same frame (the
  difference is S3, the cooldown and the result write);
* clips: a ``--clip-seconds`` 1280x720 clip at 15 fps (A, then B) at FRS_VIDEO_FPS=2: seconds of processing
  per second of clip;
* burst: ``--burst`` frames of A, one second apart in capture time, sent as that many events by
  ``--instances`` concurrent application instances (each its own clients, as separate Lambdas): how many
  alerts arrive in the queue (one is right: FRS_ALERT_COOLDOWN=300).

``--threads 1`` approximates a 2048 MB Lambda (about 1.2 vCPU). Timings are wall-clock on a shared machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from frs.api.app import Application
from frs.config import REPO_ROOT, Settings
from frs.service import FaceService

sys.path.insert(0, str(REPO_ROOT))  # the dev harness (moto server, clip writer) lives in harness/

from harness.clips import Segment, scene_frame, write_clip
from harness.messaging import subscribed_queue
from harness.s3 import start_moto_endpoint
from harness.s3_events import records_event, upload

PHOTOS = REPO_ROOT / ".cache" / "testdata"
HD = (1280, 720)


def _timed(run: Callable[[], Any], times: int) -> list[float]:
    out = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "runs": len(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--clip-seconds", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    endpoint = start_moto_endpoint()
    os.environ.update(endpoint.env())
    work = Path(tempfile.mkdtemp(prefix="frs-bench-cctv-"))
    try:
        bucket = endpoint.create_bucket()
        queue = subscribed_queue(endpoint)
        settings = Settings(
            threads=args.threads,
            gallery_uri=str(work / "galleries"),
            cache_dir=work / "cache",
            aws_endpoint_url=endpoint.url,
            results_uri=f"s3://{bucket}/results",
            alert_topic_arn=queue.topic_arn,
        )
        service = FaceService(settings)
        service.add("default", "A", (PHOTOS / "person_a_1.jpg").read_bytes(), metadata={"watchlist": True})
        service.add("default", "B", (PHOTOS / "person_b_1.jpg").read_bytes())
        app = Application(service)
        client = endpoint.client()
        ok, encoded = cv2.imencode(".jpg", scene_frame(PHOTOS / "person_a_2.jpg", face_height=450, size=HD))
        assert ok
        frame = encoded.tobytes()

        # -- frames: one event per frame; distinct cameras so every frame publishes (worst case)
        counter = iter(range(1_000_000))

        def one_frame() -> None:
            item = upload(client, bucket, f"cameras/cam{next(counter)}/frame.jpg", frame)
            answer = app(records_event(item), None)
            assert answer["records"][0]["status"] == "ok", answer

        one_frame()  # warm: models, gallery, clients
        per_frame = _stats(_timed(one_frame, args.frames))
        identify_only = _stats(_timed(lambda: service.identify("default", frame, top_k=3), args.frames))
        queue.drain()

        # -- clip
        clip_path = write_clip(
            work / "clip.mp4",
            [
                Segment(PHOTOS / "person_a_2.jpg", args.clip_seconds / 2),
                Segment(PHOTOS / "person_b_2.jpg", args.clip_seconds / 2),
            ],
            fps=15,
            face_height=450,
            size=HD,
        )
        clip_item = upload(client, bucket, "cameras/gate/20240501T120000Z.mp4", clip_path.read_bytes())
        started = time.perf_counter()
        clip_answer = app(records_event(clip_item), None)
        clip_seconds = time.perf_counter() - started
        assert clip_answer["records"][0]["status"] == "ok", clip_answer
        clip_result = json.loads(
            client.get_object(Bucket=bucket, Key="results/gate/20240501T120000Z.mp4.json")["Body"].read()
        )
        queue.drain()

        # -- burst: one person, 1 s apart, many concurrent instances
        burst = [
            upload(client, bucket, f"cameras/door/2024-05-01T12-{i // 60:02d}-{i % 60:02d}Z.jpg", frame)
            for i in range(args.burst)
        ]
        instances = [Application(FaceService(dataclasses.replace(settings))) for _ in range(args.instances)]
        statuses: list[str] = []
        lock = threading.Lock()

        def work_on(index: int) -> None:
            for item in burst[index :: args.instances]:
                answer = instances[index](records_event(item), None)
                with lock:
                    statuses.extend(answer["records"][0]["alerts"])

        threads = [threading.Thread(target=work_on, args=(i,)) for i in range(args.instances)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        burst_seconds = time.perf_counter() - started
        delivered = queue.drain(wait_seconds=1)

        report = {
            "threads": args.threads,
            "frame_1280x720": {"invocation": per_frame, "identify_only": identify_only},
            "clip_1280x720_15fps": {
                "seconds": args.clip_seconds,
                "sampled_fps": settings.video_fps,
                "processing_s": round(clip_seconds, 2),
                "processing_s_per_clip_second": round(clip_seconds / args.clip_seconds, 3),
                "tracks": [
                    (t["identity"], t["first_seen_s"], t["last_seen_s"]) for t in clip_result["tracks"]
                ],
            },
            "burst": {
                "frames": args.burst,
                "instances": args.instances,
                "alerts_delivered": len(delivered),
                "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
                "wall_s": round(burst_seconds, 1),
            },
        }
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    finally:
        endpoint.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
