"""At most one alert per (camera, identity) per ``FRS_ALERT_COOLDOWN`` seconds, across concurrent instances.

One small state object per (camera, gallery, identity or "unknown") in ``FRS_ALERT_STATE_URI``
(``<camera>/<sha256>.json``) holds the last alert's sighting time, its event id, a claim token and a status.
It changes only by compare-and-swap (``If-None-Match: *`` to create, ``If-Match: <etag>`` to replace; S3
evaluates both atomically), so of any number of instances racing for one window exactly one wins the claim
and publishes; the losers re-read and find the window taken.

Protocol for one alert: claim (status ``pending``) -> publish -> mark ``sent``. A stored state decides:

* ``sent`` by this same event: already delivered (a retried event): nothing to do;
* ``sent`` or fresh ``pending`` by another event seen less than the cooldown apart: suppressed;
* ``unsent`` (its publish failed) or ``pending`` older than :data:`CLAIM_LEASE_SECONDS` (its instance died
  between claim and publish): the window's alert was not delivered, so this event takes the claim over;
* anything seen at least the cooldown apart: a new window, a new claim.

A failed publish marks the claim ``unsent`` and reports ``failed``: the invocation then fails, Lambda retries
it (the same event id takes its claim back) and, after its retries, the event goes to the dead-letter
destination. So an alert is delivered, or its event is in the DLQ: never dropped silently. The one duplicate
possible is a publish that succeeded while marking ``sent`` failed and a retry then ran: at-least-once, and
the message's ``event_id`` identifies it.

The window is measured in sighting (capture) time, so a replayed or late-uploaded burst is judged by when the
person was there; the claim lease is measured in wall-clock time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from frs.cctv.alerts import Alert, AlertSink
from frs.cctv.objects import ObjectStore, PreconditionFailed, StoredObject
from frs.errors import FRSError

logger = logging.getLogger(__name__)

#: A ``pending`` claim older than this (wall clock) is taken for dead: claim and publish are milliseconds
#: apart, and Lambda's own retries come a minute or more later.
CLAIM_LEASE_SECONDS = 30.0
_ROUNDS = 8

Status = Literal["sent", "suppressed", "failed", "disabled"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    published_now: bool = False
    error: FRSError | None = None


def state_key(alert: Alert) -> str:
    who = alert.identity if alert.identity is not None else "\0unknown"  # names have no control characters
    digest = hashlib.sha256(f"{alert.gallery}\0{who}".encode()).hexdigest()[:40]
    return f"{alert.camera}/{digest}.json"


class Cooldown:
    def __init__(
        self,
        store: ObjectStore,
        seconds: float,
        *,
        clock: Callable[[], float] = time.time,
        lease: float = CLAIM_LEASE_SECONDS,
    ) -> None:
        self.store = store
        self.seconds = seconds
        self.clock = clock
        self.lease = lease

    def deliver(self, alert: Alert, sink: AlertSink | None) -> Outcome:
        """Publish ``alert`` unless its window is taken; a failed publish is an outcome, not an exception."""
        if sink is None:
            return Outcome("disabled")
        key = state_key(alert)
        claim = self._claim(key, alert)
        if isinstance(claim, Outcome):
            return claim
        document, etag = claim
        try:
            sink.publish(alert)
        except FRSError as error:
            self._mark(key, {**document, "status": "unsent"}, etag)
            return Outcome("failed", error=error)
        self._mark(key, {**document, "status": "sent"}, etag)
        return Outcome("sent", published_now=True)

    def _document(self, alert: Alert) -> dict[str, Any]:
        return {
            "camera": alert.camera,
            "gallery": alert.gallery,
            "identity": alert.identity,
            "type": alert.type,
            "event_id": alert.event_id,
            "seen_at": alert.sighting.seen_at.timestamp(),
            "claimed_at": self.clock(),
            "token": uuid.uuid4().hex,
            "status": "pending",
        }

    def _claim(self, key: str, alert: Alert) -> tuple[dict[str, Any], str] | Outcome:
        document = self._document(alert)
        data = json.dumps(document, sort_keys=True).encode()
        create = True  # try the common case first: no state yet (one request, and no read of a missing key)
        for _ in range(_ROUNDS):
            if create:
                try:
                    return document, self.store.put(key, data, if_absent=True)
                except PreconditionFailed:
                    pass
            current = self.store.get(key)
            if current is None:
                create = True
                continue
            verdict = self._judge(current, alert)
            if verdict is not None:
                return verdict
            create = False
            try:
                return document, self.store.put(key, data, if_match=current.etag)
            except PreconditionFailed:
                continue
        raise FRSError("alert_unavailable", f"the cooldown state {self.store.describe(key)} kept changing")

    def _judge(self, current: StoredObject, alert: Alert) -> Outcome | None:
        """The outcome the stored state imposes, or None when this alert may take the claim."""
        try:
            state = json.loads(current.data)
            status, seen_at = state["status"], float(state["seen_at"])
            claimed_at, same_event = float(state["claimed_at"]), state["event_id"] == alert.event_id
        except (ValueError, KeyError, TypeError):
            return None  # unreadable state: replace it
        if status == "sent" and same_event:
            return Outcome("sent")
        if abs(alert.sighting.seen_at.timestamp() - seen_at) >= self.seconds:
            return None
        if status == "sent" or (status == "pending" and self.clock() - claimed_at < self.lease):
            return Outcome("suppressed")
        return None  # unsent, or a stale pending claim: its alert was never delivered

    def _mark(self, key: str, document: dict[str, Any], etag: str) -> None:
        try:
            self.store.put(key, json.dumps(document, sort_keys=True).encode(), if_match=etag)
        except (PreconditionFailed, FRSError) as exc:
            # Another event took the window over, or the store is unreachable: the claim ages into a stale
            # pending one, which the lease resolves.
            logger.warning("cooldown state %s not updated to %s: %s", key, document["status"], exc)
