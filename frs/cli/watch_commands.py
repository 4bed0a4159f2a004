"""``frs watch DIR``: replay a folder of camera frames and clips locally, printing results and alerts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from frs.cctv.keys import is_camera_id
from frs.cctv.replay import replay
from frs.errors import FRSError
from frs.service import FaceService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    watch = sub.add_parser(
        "watch",
        help="replay a folder of camera frames/clips as camera events (results and alerts, no AWS)",
        description="Every .jpg/.jpeg/.png/.webp frame and .mp4 clip below DIR, in name order, goes through "
        "the same processing as an S3 camera event: every face identified on the camera's gallery "
        "(--cameras, else FRS_CAMERAS, else --gallery for every camera), a result document written under "
        '--results, alerts for watchlisted identities (metadata "watchlist": true) and, on cameras with '
        "alert_unknown, unknown faces, "
        "with the FRS_ALERT_COOLDOWN cooldown. Prints one JSON line per result "
        '({"result": ...}) and per alert ({"alert": ...}); a summary goes to stderr.',
    )
    watch.add_argument("directory", metavar="DIR", help="folder of frames and clips")
    watch.add_argument(
        "--camera",
        default="local",
        help="camera id for files not already under cameras/<camera>/ (default: local)",
    )
    watch.add_argument("--cameras", help="cameras JSON (overrides FRS_CAMERAS), e.g. '{\"default\": {...}}'")
    watch.add_argument(
        "--results", default=".frs/cctv/results", help="directory for results (default .frs/cctv/results)"
    )
    watch.add_argument(
        "--state",
        help="directory for the cooldown state (default: a fresh one per run, so every replay alerts)",
    )
    watch.set_defaults(run=_watch)


def _line(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, sort_keys=True) + "\n")
    sys.stdout.flush()


def _watch(service: FaceService, args: argparse.Namespace) -> None:
    if not is_camera_id(args.camera):
        raise FRSError(
            "bad_request", f"--camera {args.camera!r} is not a camera id (1-64 of A-Z a-z 0-9 _ . -)"
        )
    cameras = args.cameras or service.settings.cameras
    if cameras is None:  # no camera configuration at all: every camera searches --gallery
        cameras = json.dumps({"default": {"gallery": args.gallery}})
    service = FaceService(dataclasses.replace(service.settings, cameras=cameras))
    alerts: list[dict[str, Any]] = []

    def on_alert(message: dict[str, Any]) -> None:
        alerts.append(message)
        _line({"alert": message})

    def on_result(record: dict[str, Any], document: dict[str, Any] | None) -> None:
        _line({"result": document} if document is not None else {"record": record})

    with tempfile.TemporaryDirectory(prefix="frs-watch-state-") as fresh:
        records = replay(
            service,
            Path(args.directory),
            camera=args.camera,
            results_dir=Path(args.results),
            state_dir=Path(args.state) if args.state else Path(fresh),
            on_result=on_result,
            on_alert=on_alert,
        )
    counts = {
        status: sum(r["status"] == status for r in records) for status in ("ok", "error", "skipped", "retry")
    }
    statuses = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    print(f"{len(records)} objects ({statuses or 'none'}), {len(alerts)} alerts", file=sys.stderr)
    failed = next((r for r in records if r["status"] == "retry"), None)
    if failed is not None:
        error = failed["error"]
        raise FRSError(error["code"], f"{failed['key']}: {error['message']}")
