"""``frs watch DIR``: a folder of frames and clips replayed as camera events, without AWS.

Files are taken in name order. A file whose path (relative to DIR) already has a ``cameras/<camera>/`` part
keeps it as its key; any other becomes ``cameras/<camera>/<relative path>`` (``--camera``). The event time is
the file's modification time (a time in the name or path wins, as for S3 keys). Results go to a local
directory, alerts to a callback (the command prints them), the cooldown state to a local directory: the same
processor, cooldown and result rules as in Lambda.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from frs.cctv.alerts import CallbackSink
from frs.cctv.cameras import CameraSource
from frs.cctv.cooldown import Cooldown
from frs.cctv.events import CameraObject
from frs.cctv.keys import CLIP_SUFFIXES, FRAME_SUFFIXES, TRIGGER_SEGMENT
from frs.cctv.objects import LocalObjects
from frs.cctv.processor import CctvProcessor
from frs.cctv.sources import LocalSources
from frs.errors import FRSError
from frs.service import FaceService

LOCAL_BUCKET = "local"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:32]


def camera_objects(directory: Path, camera: str) -> Iterator[tuple[CameraObject, Path]]:
    """Each frame or clip below ``directory`` as the object an S3 event would announce."""
    if not directory.is_dir():
        raise FRSError("bad_request", f"{directory} is not a directory")
    suffixes = FRAME_SUFFIXES + CLIP_SUFFIXES
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in suffixes):
        relative = path.relative_to(directory).as_posix()
        key = (
            relative
            if TRIGGER_SEGMENT in relative.split("/")[:-2]
            else f"{TRIGGER_SEGMENT}/{camera}/{relative}"
        )
        stat = path.stat()
        yield (
            CameraObject(
                bucket=LOCAL_BUCKET,
                key=key,
                size=stat.st_size,
                version_id=None,
                etag=_digest(path),  # the same bytes are the same event: replays are idempotent too
                sequencer=None,
                event_time=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            ),
            path,
        )


def replay(
    service: FaceService,
    directory: Path,
    *,
    camera: str,
    results_dir: Path,
    state_dir: Path,
    on_result: Callable[[dict[str, Any], dict[str, Any] | None], None],
    on_alert: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Process every file of ``directory`` in order; ``on_result(record, document)`` after each, and
    ``on_alert(message)`` for each alert published. Returns the records of the summary."""
    objects = list(camera_objects(directory, camera))
    results = LocalObjects(results_dir)
    processor = CctvProcessor(
        service,
        cameras=CameraSource(service.settings),
        reader=LocalSources({obj.key: path for obj, path in objects}),
        results=results,
        cooldown=Cooldown(LocalObjects(state_dir), service.settings.alert_cooldown),
        sink=CallbackSink(on_alert),
    )
    records = []
    for obj, _ in objects:
        record = processor.process([obj])["records"][0]
        location = record.get("result")
        stored = results.get(Path(location).relative_to(results.directory).as_posix()) if location else None
        on_result(record, json.loads(stored.data) if stored else None)
        records.append(record)
    return records
