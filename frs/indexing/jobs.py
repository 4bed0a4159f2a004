"""An index job's state, stored under its id at ``FRS_INDEX_JOBS_URI`` (S3 or a directory)::

    <job>/job.json              what was asked: gallery, source, batch sizes, skipped objects, times
    <job>/plan.json.gz          the photos of every batch, fixed at submission (so a resume sends the same
                                batches, whatever the prefix or manifest holds by then)
    <job>/sent.json             ``{"batches_sent": K}``: every batch below K is on the queue (or done)
    <job>/results/<batch>.json  written by the worker after the batch's gallery write: one outcome per photo
    <job>/errors/<batch>.json   the last failure of a batch not done yet (its reason, how often delivered)
    <job>/report.json           written by ``frs index report``: counts, time taken, the failures' location
    <job>/failures.csv          the photos not in the gallery (key, identity, outcome, reason)

Progress is the set of ``results/`` documents: a batch is done once its document exists, whichever worker
(or redelivery) wrote it. Result documents hold outcomes, face ids and keys: never pixels or embeddings.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from frs.cctv.objects import ObjectStore, open_store
from frs.config import Settings, misconfigured
from frs.errors import FRSError

_JOB_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_job_id() -> str:
    """Sortable by creation time, unique: ``20261202T051500Z-1a2b3c4d``."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)


def check_job_id(job: str) -> str:
    if not isinstance(job, str) or not _JOB_ID.match(job):
        raise FRSError("bad_request", f"{job!r} is not an index job id (like 20261202T051500Z-1a2b3c4d)")
    return job


def batch_name(number: int) -> str:
    return f"{number:06d}"


@dataclass
class JobStore:
    """Reads and writes the documents of index jobs."""

    store: ObjectStore

    @classmethod
    def from_settings(cls, settings: Settings) -> JobStore:
        if not settings.index_jobs_uri:
            raise misconfigured("FRS_INDEX_JOBS_URI", "must be set to index photos", None)
        return cls(open_store(settings.index_jobs_uri, settings))

    def describe(self, key: str) -> str:
        return self.store.describe(key)

    def _put(self, key: str, document: Any) -> str:
        data = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        self.store.put(key, data)
        return self.store.describe(key)

    def _get(self, key: str) -> Any:
        found = self.store.get(key)
        return None if found is None else json.loads(found.data)

    def write_job(self, job: dict[str, Any]) -> str:
        return self._put(f"{job['job']}/job.json", job)

    def job(self, job: str) -> dict[str, Any]:
        document = self._get(f"{check_job_id(job)}/job.json")
        if not isinstance(document, dict):
            raise FRSError("not_found", f"no index job {job!r} at {self.store.describe(job)}")
        return document

    def write_plan(self, job: str, batches: list[list[dict[str, Any]]]) -> str:
        """The photos (``Photo.to_dict()``) of every batch, in batch order."""
        data = json.dumps({"batches": batches}, ensure_ascii=False, separators=(",", ":"))
        self.store.put(f"{job}/plan.json.gz", gzip.compress(data.encode("utf-8"), mtime=0))
        return self.store.describe(f"{job}/plan.json.gz")

    def plan(self, job: str) -> list[list[dict[str, Any]]]:
        found = self.store.get(f"{check_job_id(job)}/plan.json.gz")
        if found is None:
            raise FRSError("not_found", f"index job {job!r} has no stored plan ({self.describe(job)})")
        try:
            batches = json.loads(gzip.decompress(found.data))["batches"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FRSError("bad_request", f"the plan of index job {job!r} is unreadable: {exc}") from None
        if not isinstance(batches, list):
            raise FRSError("bad_request", f"the plan of index job {job!r} holds no list of batches")
        return batches

    def write_sent(self, job: str, batches_sent: int) -> None:
        self._put(f"{job}/sent.json", {"batches_sent": batches_sent})

    def sent(self, job: str) -> int:
        """How many batches, from the first, are known to be on the queue (0 if none recorded)."""
        found = self._get(f"{job}/sent.json")
        value = found.get("batches_sent") if isinstance(found, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0

    def write_result(self, job: str, number: int, document: dict[str, Any]) -> str:
        return self._put(f"{job}/results/{batch_name(number)}.json", document)

    def write_error(self, job: str, number: int, document: dict[str, Any]) -> str:
        return self._put(f"{job}/errors/{batch_name(number)}.json", document)

    def done_batches(self, job: str) -> set[int]:
        return self._numbers(job, "results")

    def failing_batches(self, job: str) -> set[int]:
        return self._numbers(job, "errors")

    def _numbers(self, job: str, folder: str) -> set[int]:
        numbers = set()
        for key in self.store.keys(f"{job}/{folder}/"):
            stem = key.rsplit("/", 1)[-1].removesuffix(".json")
            if stem.isdigit():
                numbers.add(int(stem))
        return numbers

    def result(self, job: str, number: int) -> dict[str, Any] | None:
        found = self._get(f"{job}/results/{batch_name(number)}.json")
        return found if isinstance(found, dict) else None

    def error(self, job: str, number: int) -> dict[str, Any] | None:
        found = self._get(f"{job}/errors/{batch_name(number)}.json")
        return found if isinstance(found, dict) else None

    def write_report(self, job: str, report: dict[str, Any], failures_csv: str) -> tuple[str, str]:
        failures = f"{job}/failures.csv"
        self.store.put(failures, failures_csv.encode("utf-8"))
        return self._put(f"{job}/report.json", report), self.store.describe(failures)
