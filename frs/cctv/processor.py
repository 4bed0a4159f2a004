"""A batch of camera objects, end to end: read, identify, alert (through the cooldown), write the result.

Every record ends in the summary with a status:

* ``ok``: processed; its result document is written (``result``), its alerts delivered or suppressed;
* ``error``: the record's own problem (bad key, not an image, too big, too long, missing object): logged
  with its code, an error result is written where the key names a camera, and the other records go on;
* ``skipped``: nothing to do (not an object creation, camera disabled, object replaced since the event);
* ``retry``: an infrastructure problem (S3 or SNS unavailable, access denied, misconfiguration: every 5xx
  code), including an alert that could not be published.

If any record is ``retry``, :meth:`CctvProcessor.handle` raises :class:`RetryBatch` after all records ran,
so Lambda's asynchronous retry runs the event again (everything is idempotent: the same results, no second
alert) and, once its retries are spent, sends it to the dead-letter destination.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from frs import aws
from frs.cctv.alerts import Alert, AlertSink, AlertType, Sighting, SnsSink, alerts_for, event_id
from frs.cctv.cameras import CameraConfig, CameraSource
from frs.cctv.clips import identify_clip
from frs.cctv.cooldown import Cooldown
from frs.cctv.events import Announced, CameraObject, RecordProblem, announced_objects
from frs.cctv.frames import identify_frame
from frs.cctv.keys import CameraKey, capture_time, iso, parse_key
from frs.cctv.objects import ObjectStore, open_store, split_s3_uri
from frs.cctv.results import result_key, write_result
from frs.cctv.sources import S3Sources, SourceReader, Superseded
from frs.config import Settings, misconfigured
from frs.errors import FRSError
from frs.service import FaceService

#: Frames larger than this are refused (image_too_large) before download; as for {"s3": ...} images.
MAX_FRAME_BYTES = 50 * 1024 * 1024
#: Time kept, at the end of an invocation, to write a clip's result and publish its alerts.
FINISHING_SECONDS = 3.0
STATE_FOLDER = "alert-state"


class RetryBatch(Exception):  # noqa: N818 - what the caller should do
    """Some records hit an infrastructure problem: fail the invocation so that it is retried."""

    def __init__(self, summary: dict[str, Any]) -> None:
        failed = [r for r in summary["records"] if r["status"] == "retry"]
        reasons = "; ".join(f"{r['key']}: {r['error']['code']}" for r in failed[:5])
        super().__init__(f"{len(failed)} of {len(summary['records'])} records must be retried ({reasons})")
        self.summary = summary


@dataclass
class RecordReport:
    bucket: str | None
    key: str | None
    status: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "key": self.key, "status": self.status, **self.details}


def default_state_uri(results_uri: str) -> str:
    """``alert-state`` next to the results: ``s3://b/results`` -> ``s3://b/alert-state``."""
    trimmed = results_uri.rstrip("/")
    parent, _, _ = trimmed.rpartition("/")
    if trimmed.startswith("s3://") and not split_s3_uri(trimmed)[1]:
        parent = trimmed  # results at the bucket's root: the state goes under it
    return f"{parent}/{STATE_FOLDER}"


def _contains(outer: str, inner: str) -> bool:
    outer, inner = outer.rstrip("/") + "/", inner.rstrip("/") + "/"
    return inner.startswith(outer)


def state_uri(settings: Settings, results_uri: str) -> str:
    uri = settings.alert_state_uri or default_state_uri(results_uri)
    if _contains(results_uri, uri) or _contains(uri, results_uri):
        raise misconfigured(
            "FRS_ALERT_STATE_URI", "must not be inside FRS_RESULTS_URI or contain it (set both apart)", uri
        )
    return uri


class _Watchlist:
    """``metadata.watchlist is True``, looked up once per identity per batch."""

    def __init__(self, service: FaceService) -> None:
        self.service = service
        self.known: dict[tuple[str, str], bool] = {}

    def check(self, gallery: str, identity: str) -> bool:
        key = (gallery, identity)
        if key not in self.known:
            try:
                metadata = self.service.gallery(gallery).get(identity).metadata
            except FRSError as exc:
                if exc.code != "not_found":  # deleted since the search: not on any list any more
                    raise
                metadata = {}
            self.known[key] = metadata.get("watchlist") is True
        return self.known[key]


class CctvProcessor:
    def __init__(
        self,
        service: FaceService,
        *,
        cameras: CameraSource,
        reader: SourceReader,
        results: ObjectStore,
        cooldown: Cooldown,
        sink: AlertSink | None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.service = service
        self.settings = service.settings
        self.cameras = cameras
        self.reader = reader
        self.results = results
        self.cooldown = cooldown
        self.sink = sink
        self.now = now
        self.deadline: float | None = None  # time.monotonic() after which no more clip frames are analysed

    @classmethod
    def from_settings(cls, service: FaceService) -> CctvProcessor:
        """The Lambda's processor: camera objects, results and state in S3, alerts to SNS (if configured)."""
        settings = service.settings
        if not settings.results_uri:
            raise misconfigured("FRS_RESULTS_URI", "must be set to process camera events", None)
        state = state_uri(settings, settings.results_uri)
        sink = (
            SnsSink(settings.alert_topic_arn, aws.client("sns", settings))
            if settings.alert_topic_arn
            else None
        )
        return cls(
            service,
            cameras=CameraSource(settings),
            reader=S3Sources(aws.client("s3", settings)),
            results=open_store(settings.results_uri, settings),
            cooldown=Cooldown(open_store(state, settings), settings.alert_cooldown),
            sink=sink,
        )

    # -- a batch ---------------------------------------------------------------------------------------

    def handle(self, event: dict[str, Any], *, remaining_ms: int | None = None) -> dict[str, Any]:
        """Process the S3 / EventBridge ``event``; :class:`RetryBatch` if a record must be retried.
        ``remaining_ms``: the invocation's time left (Lambda's context), which bounds clip analysis."""
        if remaining_ms is not None:
            self.deadline = time.monotonic() + max(0.0, remaining_ms / 1000 - FINISHING_SECONDS)
        summary = self.process(announced_objects(event))
        if any(r["status"] == "retry" for r in summary["records"]):
            raise RetryBatch(summary)
        return summary

    def process(self, announced: list[Announced]) -> dict[str, Any]:
        watchlist = _Watchlist(self.service)
        reports = []
        for item in announced:
            if isinstance(item, RecordProblem):
                reports.append(RecordReport(item.bucket, item.key, "skipped", {"reason": item.reason}))
            else:
                reports.append(self._record(item, watchlist))
        return {"records": [r.to_dict() for r in reports]}

    # -- one record ------------------------------------------------------------------------------------

    def _record(self, obj: CameraObject, watchlist: _Watchlist) -> RecordReport:
        report = RecordReport(obj.bucket, obj.key)
        try:
            parsed = parse_key(obj.key)
            config = self.cameras.current().for_camera(parsed.camera)
        except FRSError as error:
            return self._failed(report, error)
        if not config.enabled:
            return RecordReport(
                obj.bucket, obj.key, "skipped", {"reason": f"camera {parsed.camera} is disabled"}
            )
        key = result_key(parsed)
        base = {
            "type": parsed.kind,
            "camera": parsed.camera,
            "gallery": config.gallery,
            "object_id": obj.object_id,
            "source": obj.source(),
        }
        report.details.update(camera=parsed.camera, kind=parsed.kind)
        try:
            body, sightings = self._analyse(obj, parsed, config, watchlist)
        except Superseded:
            return RecordReport(
                obj.bucket, obj.key, "skipped", {"reason": "the object was replaced after the event"}
            )
        except FRSError as error:
            if error.status < 500:
                with contextlib.suppress(FRSError):
                    report.details["result"] = write_result(
                        self.results, key, {**base, "error": error.to_dict()["error"]}
                    )
            return self._failed(report, error)
        result_location = self.results.describe(key)

        def make(kind: AlertType, sighting: Sighting) -> Alert:
            return Alert(
                kind, event_id(obj.object_id, sighting), parsed.camera, config.gallery, sighting,
                obj.source(), result_location,
            )  # fmt: skip

        try:
            alerts = alerts_for(sightings, alert_unknown=config.alert_unknown, make=make)
            outcomes = [self.cooldown.deliver(alert, self.sink) for alert in alerts]
            document = {
                **base,
                **body,
                "alerts": [a.summary(o.status) for a, o in zip(alerts, outcomes, strict=True)],
            }
            report.details["result"] = write_result(self.results, key, document)
        except FRSError as error:
            return self._failed(report, error)
        report.details.update(
            {"tracks" if parsed.kind == "clip" else "faces": len(sightings)},
            alerts=[o.status for o in outcomes],
            published=sum(o.published_now for o in outcomes),
        )
        failed = next((o.error for o in outcomes if o.error is not None), None)
        return self._failed(report, failed) if failed is not None else report

    @staticmethod
    def _failed(report: RecordReport, error: FRSError) -> RecordReport:
        report.status = "retry" if error.status >= 500 else "error"
        report.details["error"] = error.to_dict()["error"]
        return report

    def _analyse(
        self, obj: CameraObject, parsed: CameraKey, config: CameraConfig, watchlist: _Watchlist
    ) -> tuple[dict[str, Any], list[Sighting]]:
        """The result's body and the sightings the alert rules look at (FRSError for unusable objects)."""
        if parsed.kind == "frame":
            return self._frame(obj, parsed, config, watchlist)
        return self._clip(obj, parsed, config, watchlist)

    def _frame(
        self, obj: CameraObject, parsed: CameraKey, config: CameraConfig, watchlist: _Watchlist
    ) -> tuple[dict[str, Any], list[Sighting]]:
        data, fetched = self.reader.read(obj, MAX_FRAME_BYTES, "image_too_large")
        captured, source = capture_time(parsed, fetched.capture_time, obj.event_time, self.now())
        frame = identify_frame(self.service, config, data)
        faces, sightings = [], []
        for index, face in enumerate(frame.faces):
            listed = face.identity is not None and watchlist.check(config.gallery, face.identity)
            faces.append({"index": index, **face.to_dict(), "watchlist": listed})
            sightings.append(
                Sighting("face", index, face.identity, face.similarity, face.reason, list(face.bbox),
                         face.quality, captured, watchlisted=listed)
            )  # fmt: skip
        body: dict[str, Any] = {
            "captured_at": iso(captured),
            "capture_time_source": source,
            "image": frame.image,
            "threshold": frame.threshold,
            "faces": faces,
            "faces_too_small": frame.too_small,
        }
        if frame.operating_point is not None:
            body["operating_point"] = frame.operating_point
        return body, sightings

    def _clip(
        self, obj: CameraObject, parsed: CameraKey, config: CameraConfig, watchlist: _Watchlist
    ) -> tuple[dict[str, Any], list[Sighting]]:
        settings = self.settings
        handle, name = tempfile.mkstemp(prefix="frs-clip-", suffix=".mp4")
        os.close(handle)
        path = Path(name)
        try:
            fetched = self.reader.download(obj, path, settings.max_clip_bytes, "clip_too_large")
            start, source = capture_time(parsed, fetched.capture_time, obj.event_time, self.now())
            clip = identify_clip(
                self.service,
                config,
                path,
                fps=settings.video_fps,
                max_seconds=settings.max_clip_seconds,
                deadline=self.deadline,
            )
        finally:
            path.unlink(missing_ok=True)
        tracks, sightings = [], []
        for index, decision in enumerate(clip.tracks):
            entry = decision.to_dict(index)
            at = {
                "first_seen_at": iso(start + timedelta(seconds=entry["first_seen_s"])),
                "last_seen_at": iso(start + timedelta(seconds=entry["last_seen_s"])),
            }
            listed = decision.identity is not None and watchlist.check(config.gallery, decision.identity)
            tracks.append({**entry, **at, "watchlist": listed})
            best = entry["best"]
            sightings.append(
                Sighting(
                    "track", index, decision.identity, decision.similarity, decision.reason, best["bbox"],
                    best["quality"], start + timedelta(seconds=best["time_s"]), watchlisted=listed,
                    track={"first_seen_s": entry["first_seen_s"], "last_seen_s": entry["last_seen_s"], **at},
                )
            )  # fmt: skip
        body = {
            "captured_at": iso(start),
            "capture_time_source": source,
            "video": {**clip.video.to_dict(), "sampled_fps": settings.video_fps, "samples": clip.samples},
            "threshold": clip.threshold,
            "operating_point": clip.operating_point,
            "tracks": tracks,
            "faces_too_small": clip.too_small,
        }
        return body, sightings
