"""Camera object keys: camera, name, kind, and the capture time they carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frs.cctv.keys import CameraKey, capture_time, iso, parse_key, time_in_metadata, time_in_text
from frs.errors import FRSError


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("cameras/gate/x.jpg", CameraKey("", "gate", "x.jpg", "frame")),
        ("site1/cameras/gate/2024/05/01/x.JPEG", CameraKey("site1/", "gate", "2024/05/01/x.JPEG", "frame")),
        ("a/b/cameras/cam-2.b_c/x.webp", CameraKey("a/b/", "cam-2.b_c", "x.webp", "frame")),
        ("cameras/gate/clip.mp4", CameraKey("", "gate", "clip.mp4", "clip")),
        ("cameras/gate/x.png", CameraKey("", "gate", "x.png", "frame")),
    ],
)
def test_keys_under_cameras_name_a_camera_and_a_kind(key: str, expected: CameraKey):
    assert parse_key(key) == expected


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("uploads/gate/x.jpg", "cameras/<camera>"),
        ("cameras/x.jpg", "cameras/<camera>"),
        ("cameras/gate/x.gif", "neither a frame"),
        ("cameras/gate/noext", "neither a frame"),
        ("cameras/gate/x.json", "neither a frame"),
        ("cameras/.hidden/x.jpg", "camera id"),
        ("cameras/gate/../x.jpg", "'..'"),
        ("cameras/gate//x.jpg", "empty"),
        ("cameras/" + "c" * 65 + "/x.jpg", "camera id"),
    ],
)
def test_other_keys_are_refused_with_the_reason(key: str, why: str):
    with pytest.raises(FRSError) as raised:
        parse_key(key)
    assert raised.value.code == "unsupported_key" and why in raised.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gate-2024-05-01T12:30:05Z.jpg", datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)),
        ("2024-05-01T12:30:05.250+02:00.jpg", datetime(2024, 5, 1, 10, 30, 5, 250000, tzinfo=UTC)),
        ("2024-05-01_12-30-05.jpg", datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)),
        ("snap_20240501T123005Z.jpg", datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)),
        ("IMG_20240501_123005.jpg", datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)),
        ("front-1714566605123.jpg", datetime(2024, 5, 1, 12, 30, 5, 123000, tzinfo=UTC)),
        # Frigate's snapshot names: <camera>-<epoch seconds with fraction>-<random>.jpg
        ("front-1714566605.475377-ab12cd.jpg", datetime(2024, 5, 1, 12, 30, 5, 475377, tzinfo=UTC)),
    ],
)
def test_capture_times_in_names(text: str, expected: datetime):
    assert time_in_text(text) == expected


@pytest.mark.parametrize(
    "text", ["frame-000123.jpg", "2024-13-45T99:00:00.jpg", "cam-9999999999999999.jpg", ""]
)
def test_numbers_that_are_no_times_are_not_taken_for_times(text: str):
    assert time_in_text(text) is None


def test_metadata_then_key_then_event_time():
    event = datetime(2024, 5, 2, tzinfo=UTC)
    fallback = datetime(2030, 1, 1, tzinfo=UTC)
    timed = parse_key("cameras/g/20240501T000000Z.jpg")
    untimed = parse_key("cameras/g/frame.jpg")
    assert capture_time(timed, "1714521600", event, fallback) == (
        datetime(2024, 5, 1, tzinfo=UTC),
        "metadata",
    )
    assert capture_time(timed, None, event, fallback) == (datetime(2024, 5, 1, tzinfo=UTC), "key")
    assert capture_time(untimed, "not a time", event, fallback) == (event, "event")
    assert capture_time(untimed, None, None, fallback) == (fallback, "event")
    # A time in a folder counts when the file name has none.
    dated = parse_key("cameras/g/2024-05-01_08-00-00/frame.jpg")
    assert capture_time(dated, None, event, fallback)[0] == datetime(2024, 5, 1, 8, tzinfo=UTC)


def test_metadata_times_in_milliseconds_and_iso():
    assert time_in_metadata("1714521600000") == datetime(2024, 5, 1, tzinfo=UTC)
    assert time_in_metadata("2024-05-01T02:00:00+02:00") == datetime(2024, 5, 1, tzinfo=UTC)
    assert time_in_metadata("2024-05-01T00:00:00") == datetime(2024, 5, 1, tzinfo=UTC)  # no zone: UTC


def test_iso_is_utc_milliseconds_with_z():
    assert (
        iso(datetime(2024, 5, 1, 2, tzinfo=UTC) + timedelta(microseconds=1500)) == "2024-05-01T02:00:00.001Z"
    )
