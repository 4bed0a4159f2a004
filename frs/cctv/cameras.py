"""``FRS_CAMERAS``: what each camera searches and alerts on.

The value is a JSON object, or ``s3://bucket/key`` of an object holding one::

    {"default": {"gallery": "default", "min_face": 40, "alert_unknown": false, "enabled": true},
     "front-door": {"gallery": "staff", "alert_unknown": true},
     "car-park": {"enabled": false}}

Each camera's entry is laid over the ``default`` entry, which is laid over the built-in defaults (the values
above), so unlisted cameras get ``default``. Fields:

* ``gallery``: the gallery searched (a gallery name);
* ``min_face``: faces whose shorter box side is smaller (pixels) are ignored: too small to recognise, and the
  main source of false unknown alerts;
* ``alert_unknown``: publish ``face.unknown`` for faces nobody in the gallery matches;
* ``enabled``: false skips the camera's objects (reported as skipped, no result written).

A document that is not valid (not JSON, unknown field, wrong type, bad camera id or gallery name) is
``misconfigured`` naming ``FRS_CAMERAS``: inline JSON fails at start; an S3 document fails the first event
that reads it (and the invocation is retried). The S3 document is read again every
:data:`REFRESH_SECONDS`, so a change reaches warm instances within that time.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from frs.cctv.keys import is_camera_id
from frs.cctv.objects import open_store, split_s3_uri
from frs.config import Settings, misconfigured
from frs.errors import FRSError
from frs.gallery.validation import validate_gallery_name

VARIABLE = "FRS_CAMERAS"
DEFAULT_ENTRY = "default"
REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class CameraConfig:
    gallery: str = "default"
    min_face: int = 40
    alert_unknown: bool = False
    enabled: bool = True


_FIELD_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "gallery": (lambda v: isinstance(v, str), "a gallery name"),
    "min_face": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 4096,
        "an integer from 0 to 4096 (pixels)",
    ),
    "alert_unknown": (lambda v: isinstance(v, bool), "true or false"),
    "enabled": (lambda v: isinstance(v, bool), "true or false"),
}


@dataclass(frozen=True)
class Cameras:
    default: CameraConfig
    cameras: dict[str, CameraConfig]

    def for_camera(self, camera: str) -> CameraConfig:
        return self.cameras.get(camera, self.default)


def _entry(raw: Any, base: CameraConfig, where: str, origin: str) -> CameraConfig:
    if not isinstance(raw, dict):
        raise misconfigured(VARIABLE, f"entry {where!r} must be a JSON object", origin)
    for field, value in raw.items():
        if field not in _FIELD_CHECKS:
            known = ", ".join(_FIELD_CHECKS)
            raise misconfigured(
                VARIABLE, f"entry {where!r} has an unknown field {field!r} (known: {known})", origin
            )
        check, expect = _FIELD_CHECKS[field]
        if not check(value):
            raise misconfigured(VARIABLE, f"{where}.{field} must be {expect}", origin)
    config = dataclasses.replace(base, **raw)
    try:
        validate_gallery_name(config.gallery)
    except FRSError as exc:
        raise misconfigured(VARIABLE, f"{where}.gallery: {exc.message}", origin) from None
    return config


def parse_cameras(text: str, origin: str) -> Cameras:
    """The cameras document ``text`` (``origin``: where it came from, for messages)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise misconfigured(VARIABLE, f"is not valid JSON ({exc})", origin) from None
    if not isinstance(document, dict):
        raise misconfigured(VARIABLE, "must be a JSON object of camera entries", origin)
    default = _entry(document.get(DEFAULT_ENTRY, {}), CameraConfig(), DEFAULT_ENTRY, origin)
    cameras: dict[str, CameraConfig] = {}
    for camera, raw in document.items():
        if camera == DEFAULT_ENTRY:
            continue
        if not is_camera_id(camera):
            raise misconfigured(
                VARIABLE, f"camera id {camera!r} is not valid (1-64 of A-Z a-z 0-9 _ . -)", origin
            )
        cameras[camera] = _entry(raw, default, camera, origin)
    return Cameras(default, cameras)


class CameraSource:
    """The cameras in force: parsed once for inline JSON, re-read periodically for an S3 document."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded_at = -float("inf")
        self._current: Cameras | None = None
        value = (settings.cameras or "").strip()
        self._uri = value if value.startswith("s3://") else None
        if self._uri is None:
            self._current = parse_cameras(value or "{}", value or "(unset)")
        elif not all(split_s3_uri(self._uri)):
            raise misconfigured(VARIABLE, "must be JSON or s3://bucket/key of a JSON document", value)

    def current(self) -> Cameras:
        if self._uri is None:
            assert self._current is not None
            return self._current
        with self._lock:
            if self._current is None or self._clock() - self._loaded_at >= REFRESH_SECONDS:
                bucket, key = split_s3_uri(self._uri)
                stored = open_store(f"s3://{bucket}", self._settings).get(key)
                if stored is None:
                    raise misconfigured(VARIABLE, "names an S3 object that does not exist", self._uri)
                self._current = parse_cameras(stored.data.decode("utf-8", errors="replace"), self._uri)
                self._loaded_at = self._clock()
            return self._current
