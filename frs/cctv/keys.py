"""What a camera object's key says: ``<prefix>cameras/<camera>/<name>.<jpg|jpeg|png|webp|mp4>``.

``<prefix>`` is anything (``site1/`` or nothing), ``<camera>`` a camera id (letters, digits, ``_ . -``, at
most 64, starting with a letter or digit) and ``<name>`` one or more path segments. Anything else is refused
with ``unsupported_key`` and its reason. Segments ``.`` and ``..`` are refused too: names become result
paths, also in a local directory.

The capture time comes, first, from the object's metadata ``x-amz-meta-capture-time`` (ISO-8601 or epoch
seconds / milliseconds), then from the key (ISO-8601 extended ``2024-05-01T12:30:00Z`` or with ``_`` / ``-``
separators, basic ``20240501T123000Z`` or ``20240501_123000``, epoch milliseconds (13 digits) or seconds
(10 digits, with an optional fraction: Frigate's event ids)), else the event time. Times without a zone are
UTC. Only years 2000 to 2100 count, so other numbers in a name are not taken for times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from frs.errors import FRSError

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
CLIP_SUFFIXES = (".mp4",)
TRIGGER_SEGMENT = "cameras"
CAMERA_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

Kind = Literal["frame", "clip"]
TimeSource = Literal["metadata", "key", "event"]


@dataclass(frozen=True)
class CameraKey:
    prefix: str  # everything before "cameras/" ("" or ends with "/")
    camera: str
    name: str  # the rest of the key after "cameras/<camera>/"
    kind: Kind


def is_camera_id(value: str) -> bool:
    return CAMERA_PATTERN.fullmatch(value) is not None


def parse_key(key: str) -> CameraKey:
    """The camera, name and kind of ``key``, or ``unsupported_key`` saying what is wrong with it."""
    segments = key.split("/")
    if TRIGGER_SEGMENT not in segments[:-2]:
        raise FRSError("unsupported_key", f"{key!r} is not under <prefix>cameras/<camera>/")
    at = segments.index(TRIGGER_SEGMENT)
    camera, rest = segments[at + 1], segments[at + 2 :]
    if not is_camera_id(camera):
        raise FRSError(
            "unsupported_key",
            f"camera id {camera!r} in {key!r} must be 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
        )
    if any(part in ("", ".", "..") for part in rest):
        raise FRSError("unsupported_key", f"{key!r} has an empty, '.' or '..' path segment after the camera")
    name = "/".join(rest)
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in rest[-1] else ""
    if suffix in FRAME_SUFFIXES:
        kind: Kind = "frame"
    elif suffix in CLIP_SUFFIXES:
        kind = "clip"
    else:
        raise FRSError(
            "unsupported_key",
            f"{key!r} is neither a frame ({', '.join(FRAME_SUFFIXES)}) "
            f"nor a clip ({', '.join(CLIP_SUFFIXES)})",
        )
    return CameraKey(
        prefix="/".join(segments[:at]) + ("/" if at else ""), camera=camera, name=name, kind=kind
    )


_ZONE = r"(?P<zone>Z|[+-]\d{2}:?\d{2})?"
_FRACTION = r"(?:[.,](?P<fraction>\d{1,9}))?"
_CALENDAR_PATTERNS = (
    # extended: 2024-05-01T12:30:00.123Z, 2024-05-01 12:30:00, 2024-05-01_12-30-00
    re.compile(
        r"(?<!\d)(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T _](?P<h>\d{2})[:-](?P<mi>\d{2})[:-](?P<s>\d{2})"
        + _FRACTION
        + _ZONE
    ),
    # basic: 20240501T123000Z, 20240501_123000, 20240501-123000, 20240501123000
    re.compile(
        r"(?<!\d)(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})[T_-]?(?P<h>\d{2})(?P<mi>\d{2})(?P<s>\d{2})(?!\d)"
        + _FRACTION
        + _ZONE
    ),
)
_EPOCH_MS = re.compile(r"(?<!\d)(1\d{12})(?!\d)")
_EPOCH_S = re.compile(r"(?<![\d.])(1\d{9}(?:\.\d{1,9})?)(?![\d])")
_EARLIEST, _LATEST = 2000, 2100


def _plausible(moment: datetime) -> datetime | None:
    return moment if _EARLIEST <= moment.year <= _LATEST else None


def _zone(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if text[0] == "-" else offset)


def _calendar(match: re.Match[str]) -> datetime | None:
    parts = match.groupdict()
    fraction = (parts.get("fraction") or "").ljust(6, "0")[:6]
    try:
        moment = datetime(
            int(parts["y"]),
            int(parts["mo"]),
            int(parts["d"]),
            int(parts["h"]),
            int(parts["mi"]),
            int(parts["s"]),
            int(fraction),
            tzinfo=_zone(parts.get("zone")),
        )
    except ValueError:
        return None
    return _plausible(moment.astimezone(UTC))


def _epoch(seconds: float) -> datetime | None:
    try:
        return _plausible(datetime.fromtimestamp(seconds, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def time_in_text(text: str) -> datetime | None:
    """The first plausible capture time written in ``text`` (calendar forms first, then epoch numbers)."""
    for pattern in _CALENDAR_PATTERNS:
        for match in pattern.finditer(text):
            moment = _calendar(match)
            if moment is not None:
                return moment
    for match in _EPOCH_MS.finditer(text):
        moment = _epoch(int(match.group(1)) / 1000)
        if moment is not None:
            return moment
    for match in _EPOCH_S.finditer(text):
        moment = _epoch(float(match.group(1)))
        if moment is not None:
            return moment
    return None


def time_in_metadata(value: str | None) -> datetime | None:
    """``x-amz-meta-capture-time``: ISO-8601 (``2024-05-01T12:30:00Z``) or epoch seconds / milliseconds."""
    if not value:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        number = float(text)
        return _epoch(number / 1000 if number > 1e11 else number)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return time_in_text(text)
    return _plausible(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def capture_time(
    parsed: CameraKey, metadata_value: str | None, event_time: datetime | None, fallback: datetime
) -> tuple[datetime, TimeSource]:
    """When the frame was taken, and where that came from (``fallback``: when no event time is known)."""
    from_metadata = time_in_metadata(metadata_value)
    if from_metadata is not None:
        return from_metadata, "metadata"
    file_name = parsed.name.rsplit("/", 1)[-1]
    from_key = time_in_text(file_name) or time_in_text(parsed.prefix + parsed.name)
    if from_key is not None:
        return from_key, "key"
    return (event_time or fallback).astimezone(UTC), "event"


def iso(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z``: the one time format results and alerts use."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
