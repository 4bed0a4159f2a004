"""Result documents: one JSON per camera object, at a key derived from the object's key.

``<prefix>cameras/<camera>/<name>`` -> ``<FRS_RESULTS_URI>/<prefix><camera>/<name>.json`` (the original suffix
kept, so ``x.jpg`` and ``x.mp4`` never collide). Results never land under ``cameras/`` (``FRS_RESULTS_URI``
may not contain that segment, and ``.json`` is no camera suffix), so writing one never triggers the function.

Writes are idempotent: the document is a pure function of the event and of what FRS decided (no processing
time in it), stored with ``If-None-Match: *``; when an object is already there, it is left alone if it has
the same bytes (a retried event) and replaced with ``If-Match`` otherwise (a retry whose alerts have since
been delivered, or a new version of the camera object). A retried event never adds an object or a version.
"""

from __future__ import annotations

import json
from typing import Any

from frs.cctv.keys import CameraKey
from frs.cctv.objects import ObjectStore, PreconditionFailed
from frs.errors import FRSError

_ROUNDS = 4


def result_key(parsed: CameraKey) -> str:
    return f"{parsed.prefix}{parsed.camera}/{parsed.name}.json"


def encode(document: dict[str, Any]) -> bytes:
    """Canonical bytes: the same document always gives the same bytes (what makes a retry a no-op)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def write_result(store: ObjectStore, key: str, document: dict[str, Any]) -> str:
    """Store ``document`` at ``key`` (once) and return where it is."""
    data = encode(document)
    for _ in range(_ROUNDS):
        try:
            store.put(key, data, if_absent=True)
            return store.describe(key)
        except PreconditionFailed:
            pass
        current = store.get(key)
        if current is None:
            continue  # deleted in between: create it again
        if current.data == data:
            return store.describe(key)
        try:
            store.put(key, data, if_match=current.etag)
            return store.describe(key)
        except PreconditionFailed:
            continue
    raise FRSError("storage_unavailable", f"{store.describe(key)} kept changing while the result was written")
