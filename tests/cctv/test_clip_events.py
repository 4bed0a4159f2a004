"""Clips through S3 events: a clip made here from the pinned photos (3 s of A, then 3 s of B, drifting
and zooming), decoded with OpenCV, sampled at FRS_VIDEO_FPS, linked into tracks: one identity and alert
per track."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import pytest

from frs.api.app import Application
from frs.config import Settings
from frs.service import FaceService
from harness.clips import Segment, write_clip
from harness.messaging import AlertQueue
from harness.s3_events import records_event
from tests.cctv.conftest import Camera


@pytest.fixture(scope="module")
def a_then_b(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "a_then_b.mp4"
    write_clip(path, [Segment(testdata / "person_a_2.jpg", 3.0), Segment(testdata / "person_b_2.jpg", 3.0)])
    return path.read_bytes()


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where clips are downloaded to (Lambda: /tmp), watched so the test sees them deleted."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_clip_of_two_people_gives_two_tracks_with_the_right_identities_and_times(
    app: Application, camera: Camera, alert_queue: AlertQueue, a_then_b: bytes, scratch: Path
):
    item = camera.put("cameras/gate/2024-05-01T12:00:00Z.mp4", a_then_b)
    summary = app(records_event(item), None)

    assert summary["records"][0]["status"] == "ok" and summary["records"][0]["tracks"] == 2
    result = camera.results()["results/gate/2024-05-01T12:00:00Z.mp4.json"]
    assert result["type"] == "clip"
    assert result["video"]["duration_s"] == pytest.approx(6.0) and result["video"]["sampled_fps"] == 2.0
    assert result["video"]["samples"] == 12  # 6 s at 2 per second
    first, second = result["tracks"]
    assert (first["identity"], second["identity"]) == ("A", "B")
    assert first["first_seen_s"] == 0.0 and first["last_seen_s"] == pytest.approx(2.5)
    assert second["first_seen_s"] == pytest.approx(3.0) and second["last_seen_s"] == pytest.approx(5.5)
    assert first["faces"] == 6 and second["faces"] == 6
    assert first["first_seen_at"] == "2024-05-01T12:00:00.000Z"
    assert second["last_seen_at"] == "2024-05-01T12:00:05.500Z"
    assert first["watchlist"] is True and second["watchlist"] is False
    assert first["similarity"] > 0.5 and second["similarity"] > 0.5
    assert 0.0 <= first["best"]["time_s"] <= 2.5 and len(first["best"]["bbox"]) == 4
    # Tracks are decided at identify's operating point for this gallery (3 enrolled faces), not the pack's
    # fixed 1:1 threshold.
    point = app.service.identify_operating_point(3)
    assert result["threshold"] == round(point.threshold, 4)
    assert result["operating_point"]["basis"] == "target_fpir"
    assert result["operating_point"]["gallery_size"] == 3
    assert 0 <= first["best"]["quality"]["score"] <= 1
    # One alert for the watchlisted track, none for B; the clip's temporary copy is gone.
    (delivered,) = alert_queue.drain()
    assert delivered.attributes["identity"] == "A"
    assert delivered.message["track"]["first_seen_at"] == "2024-05-01T12:00:00.000Z"
    assert delivered.message["track"]["last_seen_s"] == pytest.approx(2.5)
    assert list(scratch.iterdir()) == []


def _app(settings: Settings, **changes: Any) -> Application:
    return Application(FaceService(dataclasses.replace(settings, **changes)))


def test_a_clip_longer_than_the_limit_is_refused_with_a_clear_error(
    cctv_settings: Settings, camera: Camera, a_then_b: bytes, scratch: Path
):
    item = camera.put("cameras/gate/long.mp4", a_then_b)
    summary = _app(cctv_settings, max_clip_seconds=4.0)(records_event(item), None)

    (record,) = summary["records"]
    assert record["status"] == "error" and record["error"]["code"] == "clip_too_long"
    assert "FRS_MAX_CLIP_SECONDS" in record["error"]["message"]
    assert camera.results()["results/gate/long.mp4.json"]["error"]["code"] == "clip_too_long"
    assert list(scratch.iterdir()) == []


def test_a_clip_larger_than_the_byte_limit_is_refused_before_download(
    cctv_settings: Settings, camera: Camera, a_then_b: bytes, scratch: Path
):
    item = camera.put("cameras/gate/big.mp4", a_then_b)
    summary = _app(cctv_settings, max_clip_bytes=len(a_then_b) - 1)(records_event(item), None)
    assert summary["records"][0]["error"]["code"] == "clip_too_large"
    assert list(scratch.iterdir()) == []


def test_a_clip_that_is_not_a_video_is_invalid(app: Application, camera: Camera, scratch: Path):
    item = camera.put("cameras/gate/fake.mp4", "person_a_2.jpg")
    summary = app(records_event(item), None)
    assert summary["records"][0]["error"]["code"] == "invalid_clip"
    assert list(scratch.iterdir()) == []


class _Context:
    """A Lambda context with this much time left."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms
        self.aws_request_id = "test"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_a_clip_that_would_outrun_the_invocation_stops_with_a_clear_error(
    app: Application, camera: Camera, a_then_b: bytes, scratch: Path
):
    item = camera.put("cameras/gate/slow.mp4", a_then_b)
    summary = app(records_event(item), _Context(remaining_ms=3000))  # all of it kept for finishing up

    (record,) = summary["records"]
    assert record["status"] == "error" and record["error"]["code"] == "clip_too_long"
    assert "ran out of time at 0.0 s" in record["error"]["message"]
    assert list(scratch.iterdir()) == []
    # With time to spare the same clip is analysed.
    again = camera.put("cameras/gate/fast.mp4", a_then_b)
    assert app(records_event(again), _Context(remaining_ms=60_000))["records"][0]["tracks"] == 2


def test_a_clip_is_decided_at_the_configured_threshold_like_identify(
    cctv_settings: Settings, camera: Camera, alert_queue: AlertQueue, a_then_b: bytes, scratch: Path
):
    """FRS_MATCH_THRESHOLD overrides the target FPIR for clips as for identify: at 0.99 nobody is named."""
    item = camera.put("cameras/gate/strict.mp4", a_then_b)
    summary = _app(cctv_settings, match_threshold=0.99)(records_event(item), None)

    assert summary["records"][0]["status"] == "ok"
    result = camera.results()["results/gate/strict.mp4.json"]
    assert result["threshold"] == 0.99 and result["operating_point"]["source"] == "configured"
    assert [t["identity"] for t in result["tracks"]] == [None, None]
    assert [t["reason"] for t in result["tracks"]] == ["below_threshold", "below_threshold"]
    assert result["tracks"][0]["candidates"][0]["identity"] == "A"
    assert alert_queue.drain() == []
