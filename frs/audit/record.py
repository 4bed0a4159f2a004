"""What one audit record says: who did what to which gallery, whom it named, and how it ended.

A record is a flat JSON object: ``time``, ``request_id``, ``phase`` (``intent``: written before a change
touches the gallery; ``decision``: the outcome, one per operation), ``surface``, ``principal``, ``gallery``,
``operation``, ``access``, ``identities`` and ``face_ids`` (affected or returned: a delete's and a purge's
list every face they erased), ``outcome`` (``ok``,
``error``, ``forbidden``), ``error`` (the code), ``operating_point`` (identify, verify) and ``expires_at``
(add, update_metadata: the identity's expiry after the change). Values come from the request's fields and the
operation's answer, never from images or embeddings: no answer of the API carries an embedding, and only
named fields are copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _names(*values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return list(seen)


def requested(fields: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(identities, face ids) a request names: what an intent record or a failed operation's record holds."""
    return _names(fields.get("name"), fields.get("target")), _names(fields.get("face_id"))


#: Changes that may set, move or clear an identity's expiry: their decision records say what it became.
EXPIRY_OPERATIONS = ("add", "update_metadata")


def _items(result: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects of list ``key`` in an answer (nothing when it is absent or not a list, e.g. a count)."""
    value = result.get(key)
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def answered(operation: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The identities and face ids an answer affected or returned, and its operating point."""
    identities: list[Any] = [result.get("identity")]
    face_ids: list[Any] = [result.get("face_id")]
    if isinstance(result.get("face_ids"), list):
        face_ids.extend(result["face_ids"])  # delete: every face it erased
    for face in _items(result, "faces"):  # a list of faces (identify), not a count (gallery export)
        identities.append(face.get("identity"))
        identities.extend(c.get("identity") for c in face.get("candidates") or [] if isinstance(c, Mapping))
        face_ids.append(face.get("face_id"))
    for identity in _items(result, "identities"):
        identities.append(identity.get("identity"))
    for item in _items(result, "results"):  # the CLI's add of several photos: one entry per photo
        identities.append(item.get("identity"))
        face_ids.append(item.get("face_id"))
    for identity in _items(result, "purged"):
        identities.append(identity.get("identity"))
        face_ids.extend(identity.get("face_ids") or [])
    out: dict[str, Any] = {"identities": _names(*identities), "face_ids": _names(*face_ids)}
    if isinstance(result.get("operating_point"), Mapping):
        out["operating_point"] = dict(result["operating_point"])
    if isinstance(result.get("faces_removed"), int):
        out["faces_removed"] = result["faces_removed"]
    if operation in EXPIRY_OPERATIONS and "expires_at" in result:
        out["expires_at"] = result["expires_at"]  # the expiry the change left (null: never expires)
    return out


def record(base: Mapping[str, Any], phase: str, **fields: Any) -> dict[str, Any]:
    body = {
        "time": now_iso(),
        **base,
        "phase": phase,
        "identities": [],
        "face_ids": [],
        "outcome": None,
        "error": None,
        **fields,
    }
    return body
