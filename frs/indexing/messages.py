"""One SQS message = one batch of photos of one job, enrolled in one gallery write.

Body (JSON, well under SQS's 256 KiB for the default 50 photos)::

    {"frs_index": 1, "job": "<job id>", "batch": 7, "gallery": "G", "largest": false,
     "quality_filter": null, "photos": [{"identity": "...", "bucket": "...", "key": "...",
     "metadata": {...}}]}

``metadata`` is optional (absent: keep the identity's). A body that does not decode to this is a
:class:`BadMessage`: it can never succeed, so the worker fails it every time and the queue's redrive policy
moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from frs.indexing.photos import Photo

VERSION = 1
#: Photos per message unless ``frs index --batch-size`` says otherwise.
DEFAULT_BATCH_SIZE = 50
MAX_BATCH_SIZE = 500
MAX_BODY_BYTES = 256 * 1024


class BadMessage(Exception):  # noqa: N818 - what the message is
    """The body is not an index batch this code understands."""


@dataclass(frozen=True)
class Batch:
    job: str
    number: int
    gallery: str
    photos: tuple[Photo, ...]
    largest: bool = False
    quality_filter: str | None = None

    def encode(self) -> str:
        body: dict[str, Any] = {
            "frs_index": VERSION,
            "job": self.job,
            "batch": self.number,
            "gallery": self.gallery,
            "largest": self.largest,
            "quality_filter": self.quality_filter,
            "photos": [p.to_dict() for p in self.photos],
        }
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode("utf-8")) > MAX_BODY_BYTES:
            raise ValueError(
                f"batch {self.number} is over {MAX_BODY_BYTES} bytes; use a smaller --batch-size"
            )
        return text


def chunks(photos: Sequence[Photo], size: int) -> Iterator[tuple[Photo, ...]]:
    for start in range(0, len(photos), size):
        yield tuple(photos[start : start + size])


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise BadMessage(f"'{name}' is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def decode(text: str) -> Batch:
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise BadMessage(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("frs_index") != VERSION:
        raise BadMessage(f"the body is not an FRS index batch (frs_index {VERSION})")
    raw_photos = _field(body, "photos", list)
    photos = []
    for item in raw_photos:
        try:
            photos.append(Photo.from_dict(item))
        except (TypeError, ValueError) as exc:
            raise BadMessage(f"a photo entry is malformed: {exc}") from None
    quality = body.get("quality_filter")
    if quality is not None and not isinstance(quality, str):
        raise BadMessage("'quality_filter' must be a string or null")
    return Batch(
        job=_field(body, "job", str),
        number=_field(body, "batch", int),
        gallery=_field(body, "gallery", str),
        photos=tuple(photos),
        largest=body.get("largest") is True,
        quality_filter=quality,
    )
