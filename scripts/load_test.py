"""Concurrent load against ``frs serve`` on an S3 gallery: identify, add and list from several clients.

    .venv/bin/python scripts/load_test.py --clients 4 --requests 200 [--servers 2] [--json out.json]
    .venv/bin/python scripts/load_test.py --url http://127.0.0.1:3000 [--url ...] --clients 4 --requests 50

Without ``--url`` it starts a moto S3 server on 127.0.0.1 with a fresh bucket and ``--servers`` ``frs serve``
processes on the same S3 gallery, each with its own cache (like separate Lambda instances); one ``frs serve``
handles one request at a time, so concurrent writers need two or more. Clients are spread round-robin over
the servers. Each client sends ``--requests`` requests, drawn from a seeded mix: identify (one face,
person_b_2.jpg, or the 29-face Solvay photo), add (a distinct name per add and the same photo with a distinct
trailing byte, so every add is a new face), and list (first page).

Servers it starts reach S3 through :class:`harness.faults.FaultProxy`, which counts what S3 answered
(``PUT 412``: a writer lost an optimistic-concurrency race and re-applied its change). With
``--s3-fault-rate R`` the proxy also injects throttling, 500/503, stalls (timeouts) and connection resets,
before or after the request reached S3, into a fraction R of all S3 requests (seeded); the servers then use
a 2 s S3 read timeout so stalls cost little. A request whose S3 retries all fail answers 503
storage_unavailable; it is counted, not treated as a lost write.

Afterwards every acknowledged add (201) is looked up: it must be listed and have exactly one face. When the
script started S3 itself it also checks the gallery object (SQLite integrity, one face per acknowledged add).
Prints p50/p95/max latency per operation and the status codes; exits 1 on any 5xx, connection error or lost
add. Bounded: every request has a timeout, and the run stops early after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the dev harness (moto server, `frs serve` launcher) lives in harness/

from harness.faults import FAULT_KINDS, FaultProxy  # noqa: E402
from harness.s3 import S3Endpoint, start_s3_endpoint  # noqa: E402
from harness.serve import running_server  # noqa: E402

OPERATIONS = ["identify", "identify_group", "add", "list"]
WEIGHTS = [0.3, 0.1, 0.35, 0.25]
REQUEST_TIMEOUT = 120.0


@dataclass
class Sample:
    op: str
    status: int  # 0: no HTTP answer (connection refused, reset, timeout)
    seconds: float
    detail: str = ""


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # name -> face_id of every 201 add
    unacknowledged: list[str] = field(default_factory=list)  # adds answered otherwise (may or may not exist)
    wall_seconds: float = 0.0
    stopped_early: bool = False


def http(
    method: str, url: str, body: bytes | None = None, content_type: str | None = None
) -> tuple[int, bytes]:
    """(status, body); status 0 when there was no HTTP answer at all."""
    request = urllib.request.Request(url, data=body, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc).encode()


class Workload:
    """The requests one run sends: photos, gallery, and a deterministic op sequence per client."""

    def __init__(self, photos: Path, gallery: str, seed: int) -> None:
        self.identify_photo = (photos / "person_b_2.jpg").read_bytes()
        self.group_photo = (photos / "solvay_conference_1927.jpg").read_bytes()
        self.add_photo = (photos / "person_a_1.jpg").read_bytes()
        self.gallery = urllib.parse.quote(gallery, safe="")
        self.seed = seed
        self.run_id = uuid.uuid4().hex[:6]

    def ops(self, client: int, count: int) -> list[str]:
        rng = random.Random(self.seed * 1000 + client)
        return rng.choices(OPERATIONS, weights=WEIGHTS, k=count)

    def send(
        self, base: str, op: str, client: int, index: int, result: LoadResult, lock: threading.Lock
    ) -> None:
        root = f"{base}/galleries/{self.gallery}"
        name = ""
        started = time.perf_counter()
        if op == "identify":
            status, body = http("POST", f"{root}/identify", self.identify_photo, "image/jpeg")
        elif op == "identify_group":
            status, body = http("POST", f"{root}/identify", self.group_photo, "image/jpeg")
        elif op == "add":
            name = f"load-{self.run_id}-c{client}-{index:04d}"
            # Bytes after the JPEG end marker are ignored by decoders but change the image's sha256.
            photo = self.add_photo + f"frs-load {client} {index}".encode()
            status, body = http("POST", f"{root}/identities/{name}/faces", photo, "image/jpeg")
        else:
            status, body = http("GET", f"{root}/identities?page_size=50")
        elapsed = time.perf_counter() - started
        detail = body[:300].decode("utf-8", "replace") if status >= 500 or status == 0 else ""
        with lock:
            result.samples.append(Sample(op, status, elapsed, detail))
            if op == "add" and status == 201:
                result.acknowledged[name] = str(json.loads(body)["face_id"])
            elif op == "add":
                result.unacknowledged.append(name)


def run_load(
    urls: list[str], workload: Workload, clients: int, requests: int, max_seconds: float
) -> LoadResult:
    """``clients`` threads, client c talking to ``urls[c % len(urls)]``, ``requests`` requests each."""
    result = LoadResult()
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds

    def client(c: int) -> None:
        for index, op in enumerate(workload.ops(c, requests)):
            if time.monotonic() > deadline:
                result.stopped_early = True
                return
            workload.send(urls[c % len(urls)], op, c, index, result, lock)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + REQUEST_TIMEOUT)
    result.wall_seconds = time.perf_counter() - started
    return result


def listed_names(base: str, gallery: str) -> list[str]:
    """Every identity name in the gallery, following next_page_token."""
    names: list[str] = []
    token: str | None = None
    quoted = urllib.parse.quote(gallery, safe="")
    for _ in range(10_000):  # bounded: at most 10 M identities
        query = {"page_size": "1000", **({"page_token": token} if token else {})}
        status, body = http("GET", f"{base}/galleries/{quoted}/identities?{urllib.parse.urlencode(query)}")
        if status != 200:
            raise RuntimeError(f"listing failed: {status} {body[:200]!r}")
        page = json.loads(body)
        names.extend(str(i["identity"]) for i in page["identities"])
        token = page.get("next_page_token")
        if not token:
            return names
    raise RuntimeError("listing did not end")


def missing_adds(base: str, gallery: str, acknowledged: dict[str, str]) -> list[str]:
    """Acknowledged adds that are not listed, or whose identity does not hold exactly that one face."""
    listed = set(listed_names(base, gallery))
    missing = []
    quoted = urllib.parse.quote(gallery, safe="")
    for name, face_id in sorted(acknowledged.items()):
        status, body = http(
            "GET", f"{base}/galleries/{quoted}/identities/{urllib.parse.quote(name, safe='')}"
        )
        faces = json.loads(body).get("faces", []) if status == 200 else []
        if name not in listed or [f["face_id"] for f in faces] != [face_id]:
            missing.append(name)
    return missing


def check_object(endpoint: S3Endpoint, bucket: str, key: str, acknowledged: dict[str, str]) -> list[str]:
    """Problems with the gallery object in S3: SQLite integrity, and one face per acknowledged add."""
    data: bytes = endpoint.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / "gallery.sqlite"
        local.write_bytes(data)
        conn = sqlite3.connect(f"file:{local}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return ["the gallery object fails PRAGMA integrity_check"]
            counts = dict(
                conn.execute(
                    "SELECT i.name, COUNT(f.face_id) FROM identities i "
                    "LEFT JOIN faces f ON f.identity_id = i.id GROUP BY i.id"
                ).fetchall()
            )
        finally:
            conn.close()
    return [f"{name}: {counts.get(name, 0)} faces in S3" for name in acknowledged if counts.get(name) != 1]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(result: LoadResult) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for op in sorted({s.op for s in result.samples}):
        samples = [s for s in result.samples if s.op == op]
        ms = [s.seconds * 1000 for s in samples]
        operations[op] = {
            "count": len(samples),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1),
            "statuses": dict(sorted(Counter(str(s.status) for s in samples).items())),
        }
    failures = [s for s in result.samples if s.status >= 500 or s.status == 0]
    unavailable = [s for s in failures if s.status == 503 and "storage_unavailable" in s.detail]
    return {
        "requests": len(result.samples),
        "wall_seconds": round(result.wall_seconds, 1),
        "requests_per_second": round(len(result.samples) / result.wall_seconds, 2)
        if result.wall_seconds
        else 0,
        "stopped_early": result.stopped_early,
        "operations": operations,
        "server_errors": len(failures),
        "storage_unavailable": len(unavailable),
        "server_error_samples": [f"{s.op} {s.status} {s.detail}" for s in failures[:5]],
        "acknowledged_adds": result.acknowledged,
        "unacknowledged_adds": result.unacknowledged,
    }


def print_table(summary: dict[str, Any]) -> None:
    print(f"{'operation':<15}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  statuses")
    for op, row in summary["operations"].items():
        statuses = " ".join(f"{code}x{n}" for code, n in row["statuses"].items())
        timings = f"{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}{row['max_ms']:>9.0f}"
        print(f"{op:<15}{row['count']:>5}{timings}  {statuses}")
    rate = f"{summary['requests_per_second']} req/s"
    if "s3_answers" in summary:
        answers = " ".join(f"{k}x{n}" for k, n in summary["s3_answers"].items())
        faults = " ".join(f"{k}x{n}" for k, n in sorted(summary["s3_faults_injected"].items()))
        print(f"S3 answers: {answers}; injected faults: {faults or 'none'}")
    print(
        f"{summary['requests']} requests in {summary['wall_seconds']} s ({rate}); "
        f"{len(summary['acknowledged_adds'])} adds acknowledged; "
        f"{summary['server_errors']} 5xx/connection errors "
        f"({summary['storage_unavailable']} of them 503 storage_unavailable); "
        f"missing adds: {len(summary.get('missing_adds', []))}"
    )


@dataclass
class LocalStack:
    urls: list[str]
    endpoint: S3Endpoint
    bucket: str
    proxy: FaultProxy  # every S3 request of the servers passes it (and is counted)


@contextlib.contextmanager
def local_stack(
    servers: int, threads: int, fault_rate: float, seed: int, scratch: Path
) -> Iterator[LocalStack]:
    """A moto S3 on 127.0.0.1, a fresh bucket, and ``servers`` `frs serve` processes on one S3 gallery
    behind a :class:`FaultProxy` that counts S3 requests and, when ``fault_rate`` > 0, injects faults."""
    endpoint = start_s3_endpoint()
    try:
        bucket = endpoint.create_bucket()
        env = {
            **endpoint.env(),
            "FRS_GALLERY_URI": f"s3://{bucket}/galleries",
            "FRS_THREADS": str(threads),
        }
        with contextlib.ExitStack() as stack:
            proxy = stack.enter_context(FaultProxy(endpoint.url, seed=seed))
            env["AWS_ENDPOINT_URL"] = proxy.url
            if fault_rate > 0:
                for kind in FAULT_KINDS:
                    proxy.inject(kind, times=None, fraction=fault_rate / len(FAULT_KINDS), delay=5.0)
                env.update(FRS_S3_READ_TIMEOUT="2", FRS_S3_CONNECT_TIMEOUT="2")
            urls = []
            for n in range(servers):
                root = scratch / f"server-{n}"
                root.mkdir()
                urls.append(stack.enter_context(running_server(root, env)))
            yield LocalStack(urls, endpoint, bucket, proxy)
    finally:
        endpoint.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", action="append", default=[], help="a running frs serve (repeatable)")
    parser.add_argument("--servers", type=int, default=1, help="frs serve processes to start (without --url)")
    parser.add_argument("--threads", type=int, default=1, help="FRS_THREADS of each started server")
    parser.add_argument(
        "--s3-fault-rate", type=float, default=0.0, help="share of S3 requests given a fault (0..0.5)"
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--gallery", default="load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop sending after this long")
    parser.add_argument("--photos", type=Path, default=REPO_ROOT / ".cache" / "testdata")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.requests <= 10_000 or not 1 <= args.servers <= 8:
        parser.error("--clients 1..64, --requests 1..10000, --servers 1..8")
    if not 0 <= args.s3_fault_rate <= 0.5 or (args.s3_fault_rate and args.url):
        parser.error("--s3-fault-rate is 0..0.5, and only for servers this script starts")
    for url in args.url:
        if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
            parser.error(f"{url}: only servers on 127.0.0.1 are load-tested")
    workload = Workload(args.photos, args.gallery, args.seed)

    with contextlib.ExitStack() as stack:
        local = None
        urls = [u.rstrip("/") for u in args.url]
        if not urls:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="frs-load-")))
            local = stack.enter_context(
                local_stack(args.servers, args.threads, args.s3_fault_rate, args.seed, scratch)
            )
            urls = local.urls
        print(f"{args.clients} clients x {args.requests} requests against {', '.join(urls)}", file=sys.stderr)
        result = run_load(urls, workload, args.clients, args.requests, args.max_seconds)
        summary = summarise(result)
        summary["config"] = {
            "clients": args.clients,
            "requests": args.requests,
            "servers": len(urls),
            "seed": args.seed,
            "gallery": args.gallery,
            "s3_fault_rate": args.s3_fault_rate,
        }
        if local is not None:
            log = local.proxy.log
            summary["s3_faults_injected"] = dict(Counter(r.fault for r in log if r.fault))
            # What S3 answered: PUT 412 is a lost optimistic-concurrency race (re-read, re-apply, retry).
            summary["s3_answers"] = dict(
                sorted(Counter(f"{r.method} {r.upstream_status}" for r in log if r.forwarded).items())
            )
            local.proxy.clear()  # the checks below must see S3 as it is
        summary["missing_adds"] = missing_adds(urls[0], args.gallery, result.acknowledged)
        if local is not None and result.acknowledged:
            key = f"galleries/{args.gallery}.sqlite"
            summary["missing_adds"] += check_object(local.endpoint, local.bucket, key, result.acknowledged)
    print_table(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    # Under injected S3 faults a 503 storage_unavailable is a correct answer; anything else 5xx never is.
    unexpected = summary["server_errors"] - (summary["storage_unavailable"] if args.s3_fault_rate else 0)
    return 1 if unexpected or summary["missing_adds"] else 0


if __name__ == "__main__":
    sys.exit(main())
