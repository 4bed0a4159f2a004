"""S3 faults between FRS and a real S3 server (moto on 127.0.0.1): throttling, 5xx, timeouts, connection
resets, a writer killed after its upload, and a full local disk.

Every S3 request FRS makes goes through :class:`harness.faults.FaultProxy`; the tests inspect the bucket
with a separate client that bypasses the proxy. The bucket is versioned, so the number of object versions is
the number of uploads that landed: "exactly once" is counted, not assumed.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frs import aws
from frs.api.app import Application
from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.file.transports.s3 import S3Transport
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from frs.pipeline.analyzer import load_analyzer
from frs.service import FaceService
from harness.faults import FaultProxy, ProxiedRequest
from harness.s3 import S3Endpoint
from tests.api.events import response_json, v2_event
from tests.gallery.file.workers import start_worker
from tests.gallery.synthetic import FaceMaker
from tests.support.gallery_files import faces_in_gallery_file
from tests.support.tmpfs import tiny_tmpfs

PREFIX = "galleries"
KEY = f"{PREFIX}/people.sqlite"
READ_TIMEOUT = 1.5  # FRS's S3 read timeout in these tests; a stalled answer is held longer than this
STALL = 3.5


class Bucket:
    """Inspects the gallery object directly, bypassing the proxy (and FRS)."""

    def __init__(self, endpoint: S3Endpoint, name: str, scratch: Path) -> None:
        self.client = endpoint.client()
        self.name = name
        self.scratch = scratch
        self.client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})

    def etag(self) -> str:
        return str(self.client.head_object(Bucket=self.name, Key=KEY)["ETag"])

    def raw(self) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.name, Key=KEY)["Body"].read()
        return body

    def uploads(self) -> int:
        """How many versions of the gallery object exist: one per upload that landed."""
        listing = self.client.list_object_versions(Bucket=self.name, Prefix=KEY)
        return sum(1 for v in listing.get("Versions", []) if v["Key"] == KEY)

    def faces_per_identity(self) -> dict[str, int]:
        """{identity: face count} of the current object, after checking it is a sound FRS gallery file."""
        return faces_in_gallery_file(self.raw(), self.scratch)


@pytest.fixture
def proxy(s3_env: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """FRS's S3 client talks to the S3 server only through this proxy, with short timeouts and 3 attempts
    (``settings_s3``; worker processes get the same through their environment)."""
    with FaultProxy(s3_env.url) as started:
        monkeypatch.setenv("AWS_ENDPOINT_URL", started.url)
        monkeypatch.setenv("FRS_S3_MAX_ATTEMPTS", "3")
        monkeypatch.setenv("FRS_S3_CONNECT_TIMEOUT", str(READ_TIMEOUT))
        monkeypatch.setenv("FRS_S3_READ_TIMEOUT", str(READ_TIMEOUT))
        yield started


@pytest.fixture
def bucket(s3_env: S3Endpoint, s3_bucket: str, tmp_path: Path) -> Bucket:
    return Bucket(s3_env, s3_bucket, tmp_path)


@pytest.fixture
def settings_s3(proxy: FaultProxy, gallery_settings: Settings) -> Settings:
    """The gallery settings with S3 behind the proxy (a new port: a new client, a fresh retry quota)."""
    assert gallery_settings.gallery_uri.endswith(f"/{PREFIX}")
    return dataclasses.replace(
        gallery_settings,
        aws_endpoint_url=proxy.url,
        s3_max_attempts=3,
        s3_connect_timeout=READ_TIMEOUT,
        s3_read_timeout=READ_TIMEOUT,
    )


@pytest.fixture
def proxied(settings_s3: Settings, s3_bucket: str) -> S3Transport:
    """A transport whose requests go through the proxy, for extra writers built by hand."""
    return S3Transport(s3_bucket, PREFIX, aws.client("s3", settings_s3))


def bounded(settings: Settings, proxy: FaultProxy, attempts: int) -> Gallery:
    """Another warm gallery object on the same S3 object and cache, making ``attempts`` attempts per call."""
    quick = open_gallery("people", dataclasses.replace(settings, s3_max_attempts=attempts))
    quick.get("A")
    proxy.reset_log()
    return quick


@pytest.fixture
def gallery(
    proxy: FaultProxy, bucket: Bucket, settings_s3: Settings, faces: FaceMaker, pack: PackInfo
) -> Gallery:
    """A warm gallery (identity "A", versioned bucket) whose writes go straight to a conditional PUT."""
    opened = open_gallery("people", settings_s3)
    opened.add_face("A", faces.face("a"), pack=pack)
    proxy.reset_log()
    return opened


def cached_files(settings: Settings) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in settings.cache_dir.rglob("*") if p.is_file()}


def _held_upload(log: list[ProxiedRequest]) -> bool:
    return any(r.fault == "stall_after_forward" and r.upstream_status == 200 for r in log)


# ----- (a) transient faults: retried with backoff, the write lands once -----------------------------------


@pytest.mark.parametrize("kind", ["slowdown", "internal_error", "service_unavailable"])
def test_transient_errors_are_retried_and_the_write_lands_once(
    kind: str, proxy: FaultProxy, gallery: Gallery, bucket: Bucket, faces: FaceMaker, pack: PackInfo
) -> None:
    uploads = bucket.uploads()
    proxy.inject(kind, times=2, method="PUT")  # two of the three attempts fail
    result = gallery.add_face("B", faces.face("b"), pack=pack)
    assert result.created
    assert proxy.count(method="PUT", fault=kind) == 2
    assert proxy.count(method="PUT", forwarded=True) == 1
    assert bucket.uploads() == uploads + 1
    assert bucket.faces_per_identity() == {"A": 1, "B": 1}

    proxy.inject(kind, times=2, method="GET")  # reads revalidate (sync_ttl=0): the GET is retried too
    assert gallery.get("B").face_count == 1
    assert proxy.count(method="GET", fault=kind) == 2


def test_throttling_on_a_fraction_of_requests(
    proxy: FaultProxy, gallery: Gallery, bucket: Bucket, faces: FaceMaker, pack: PackInfo
) -> None:
    """Half of all requests throttled (seeded): every write still lands exactly once."""
    uploads = bucket.uploads()
    proxy.inject("slowdown", times=None, fraction=0.5)
    added = [f"p{i}" for i in range(4)]
    for name in added:
        assert gallery.add_face(name, faces.face(name), pack=pack).created
        assert gallery.get(name).face_count == 1
    proxy.clear()
    assert proxy.count(fault="slowdown") > 0
    assert bucket.uploads() == uploads + len(added)
    assert bucket.faces_per_identity() == {"A": 1, **dict.fromkeys(added, 1)}


# ----- (b) persistent faults: storage_unavailable after a bounded number of attempts, nothing harmed ------


@pytest.mark.parametrize("kind", ["slowdown", "internal_error", "service_unavailable", "stall", "reset"])
@pytest.mark.usefixtures("gallery")  # identity "A" enrolled; the test uses its own bounded object
def test_persistent_faults_fail_cleanly_and_leave_everything_intact(
    kind: str,
    proxy: FaultProxy,
    bucket: Bucket,
    settings_s3: Settings,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    gallery = bounded(settings_s3, proxy, 2)  # the bound under test; 2 keeps the test quick
    etag, content, cached = bucket.etag(), bucket.raw(), cached_files(settings_s3)
    proxy.inject(kind, times=None, delay=STALL)

    started = time.monotonic()
    with pytest.raises(FRSError) as err:
        gallery.add_face("B", faces.face("b"), pack=pack)
    failed_write = time.monotonic() - started
    assert err.value.code == "storage_unavailable"
    assert "s3://" in err.value.message
    assert proxy.count(method="PUT") == 2  # bounded: exactly FRS_S3_MAX_ATTEMPTS attempts, then give up

    with pytest.raises(FRSError) as err:
        gallery.get("A")  # the revalidating read fails the same way, also after 2 attempts
    assert err.value.code == "storage_unavailable"
    assert proxy.count(method="GET") == 2
    print(f"\n{kind}: write failed after {failed_write:.1f} s")  # informational, not asserted

    assert proxy.count(forwarded=True) == 0
    assert bucket.etag() == etag and bucket.raw() == content
    assert cached_files(settings_s3) == cached  # the local copy is untouched, no temp files left

    proxy.clear()
    assert gallery.get("A").face_count == 1
    assert gallery.add_face("B", faces.face("b"), pack=pack).created
    assert bucket.faces_per_identity() == {"A": 1, "B": 1}


# ----- (c) timeouts and resets on PUT: a write lands once or not at all -----------------------------------


@pytest.mark.parametrize("kind", ["stall", "reset", "stall_after_forward", "reset_after_forward"])
def test_timeouts_and_resets_on_upload_land_exactly_once(
    kind: str, proxy: FaultProxy, gallery: Gallery, bucket: Bucket, faces: FaceMaker, pack: PackInfo
) -> None:
    landed_anyway = kind.endswith("_after_forward")  # S3 stored it; only the answer was lost
    uploads = bucket.uploads()
    proxy.inject(kind, method="PUT", delay=STALL)
    result = gallery.add_face("B", faces.face("b"), pack=pack)
    assert result.created  # re-applying its own landed change would have answered created=False
    assert bucket.uploads() == uploads + 1
    assert bucket.faces_per_identity() == {"A": 1, "B": 1}
    # The retry reached S3 too: a fresh upload, or (answer lost) a 412 that the writer recognised as its own.
    statuses = [r.upstream_status for r in proxy.log if r.method == "PUT" and r.forwarded]
    assert statuses == ([200, 412] if landed_anyway else [200])

    proxy.inject(kind, method="PUT", delay=STALL)
    assert len(gallery.delete_identity("B")) == 1  # applying the delete twice would answer not_found
    assert bucket.uploads() == uploads + 2
    assert bucket.faces_per_identity() == {"A": 1}


@pytest.mark.usefixtures("gallery")  # identity "A" enrolled; the test uses its own bounded object
def test_lost_answer_on_every_attempt_is_reported_and_converges(
    proxy: FaultProxy,
    bucket: Bucket,
    settings_s3: Settings,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    """The upload lands but no answer ever arrives: the caller gets an error (not an acknowledgement); the
    change is there once, a retried add does not duplicate it, and later writes build on it."""
    gallery = bounded(settings_s3, proxy, 2)
    uploads = bucket.uploads()
    proxy.inject("stall_after_forward", method="PUT", delay=STALL)
    proxy.inject("stall", times=None, method="PUT", delay=STALL)
    with pytest.raises(FRSError) as err:
        gallery.add_face("B", faces.face("b"), pack=pack)
    assert err.value.code == "storage_unavailable"
    proxy.clear()
    assert bucket.faces_per_identity() == {"A": 1, "B": 1}  # it did land, exactly once

    again = gallery.add_face("B", faces.face("b"), pack=pack)  # the caller retries the unacknowledged add
    assert not again.created
    assert gallery.add_face("C", faces.face("c"), pack=pack).created
    assert bucket.faces_per_identity() == {"A": 1, "B": 1, "C": 1}
    assert bucket.uploads() == uploads + 2  # B once, C once; the retried B uploaded nothing


def test_lost_answer_overtaken_by_another_writer_is_still_recognised(
    proxy: FaultProxy,
    gallery: Gallery,
    bucket: Bucket,
    proxied: S3Transport,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    gallery.add_face("B", faces.face("b"), pack=pack)
    other = SyncedGallery("people", proxied, tmp_path / "other-cache", sync_ttl=0)
    proxy.inject("stall_after_forward", method="PUT", delay=STALL)
    outcome: dict[str, Any] = {}

    def delete() -> None:
        try:
            outcome["removed"] = len(gallery.delete_identity("B"))
        except FRSError as exc:
            outcome["error"] = exc.code

    deleter = threading.Thread(target=delete)
    deleter.start()
    proxy.wait_for(_held_upload)  # the delete is stored in S3; its answer is being held
    other.add_face("C", faces.face("c"), pack=pack)  # another instance writes on top of it meanwhile
    deleter.join(timeout=60)
    assert bucket.faces_per_identity() == {"A": 1, "C": 1}  # the data is right either way...
    assert outcome == {"removed": 1}  # ...but the deleter should be told its delete worked


def test_concurrent_writers_under_random_faults_converge(
    proxy: FaultProxy,
    bucket: Bucket,
    proxied: S3Transport,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
) -> None:
    """Three writers (separate caches, like separate Lambda instances) race while a seeded share of the
    uploads is throttled, stalled, reset or loses its answer. Callers retry failed adds, as API clients
    would. Afterwards every acknowledged add is present exactly once, and nothing else was invented."""
    transport = proxied
    for kind in ("slowdown", "stall", "reset", "stall_after_forward", "reset_after_forward"):
        proxy.inject(kind, times=None, method="PUT", fraction=0.08, delay=STALL)
    acknowledged: dict[str, bool] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        gallery = SyncedGallery("people", transport, tmp_path / f"cache-{w}", sync_ttl=0)
        for i in range(5):
            name = f"w{w}-{i}"
            for _ in range(6):
                try:
                    result = gallery.add_face(name, faces.face(name), pack=pack)
                except FRSError as exc:
                    with lock:
                        failures.append(exc.code)
                    continue
                with lock:
                    acknowledged[name] = result.created
                break

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    proxy.clear()
    assert not any(thread.is_alive() for thread in threads)
    assert set(failures) <= {"storage_unavailable", "conflict"}
    expected = {f"w{w}-{i}": 1 for w in range(3) for i in range(5)}
    assert set(acknowledged) == set(expected)  # every add was acknowledged eventually
    assert bucket.faces_per_identity() == expected  # each exactly once
    faulted = [r for r in proxy.log if r.fault is not None]
    assert faulted, "the seeded fractions injected no fault at all"
    print(f"\n{len(faulted)} injected faults, {len(failures)} adds failed and were retried by the caller")


def test_connection_broken_inside_an_error_answer_is_handled(
    proxy: FaultProxy, bucket: Bucket, proxied: S3Transport, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    """A reset inside the body of an error answer. For GetObject botocore reads that body outside its retry
    handling, so it used to escape as a raw urllib3 error: a 500 internal_error through the API on a cold
    start. Found by scripts/load_test.py --s3-fault-rate. For PutObject (the 412 of a lost race) botocore
    retries by itself."""
    transport = proxied
    reader = SyncedGallery("people", transport, tmp_path / "reader", sync_ttl=0)
    proxy.inject("reset_after_forward", method="GET")  # the 404 of a gallery that does not exist yet
    with pytest.raises(FRSError) as err:
        reader.get("A")
    assert err.value.code == "not_found"  # the download was retried and saw "no such gallery"
    assert proxy.log[0].upstream_status == 404 and proxy.log[0].fault == "reset_after_forward"

    fresh = SyncedGallery("people", transport, tmp_path / "fresh", sync_ttl=0)
    stale = SyncedGallery("people", transport, tmp_path / "stale", sync_ttl=3600)
    fresh.add_face("A", faces.face("a"), pack=pack)
    stale.get("A")
    fresh.add_face("B", faces.face("b"), pack=pack)
    proxy.reset_log()
    proxy.inject("reset_after_forward", method="PUT")  # the 412 that tells the stale writer it lost
    assert stale.add_face("C", faces.face("c"), pack=pack).created
    puts = [(r.upstream_status, r.fault) for r in proxy.log if r.method == "PUT"]
    assert puts == [(412, "reset_after_forward"), (412, None), (200, None)]  # broken 412, retried, re-applied
    assert bucket.faces_per_identity() == {"A": 1, "B": 1, "C": 1}


# ----- (d) a writer killed after its upload landed, before it updated its cache ---------------------------


def _worker(uri: str, cache: Path, *names: str, read_timeout: float) -> subprocess.Popen[str]:
    return start_worker(uri, cache, names, env={"FRS_S3_READ_TIMEOUT": str(read_timeout)})


def test_writer_killed_after_its_upload_converges_in_the_next_process(
    proxy: FaultProxy, gallery: Gallery, bucket: Bucket, settings_s3: Settings, tmp_path: Path
) -> None:
    cache = tmp_path / "victim-cache"
    uploads = bucket.uploads()
    # S3 stores the victim's upload, but its answer is held until the victim is dead: the process dies after
    # a successful upload and before it could install the new version in its local cache.
    proxy.inject("stall_after_forward", method="PUT", delay=120)
    victim = _worker(settings_s3.gallery_uri, cache, "victim", read_timeout=120)
    try:
        proxy.wait_for(_held_upload, timeout=60)
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    proxy.clear()
    assert bucket.faces_per_identity() == {"A": 1, "victim": 1}
    landed = bucket.etag()
    left = [p.name for p in cache.rglob("*.sqlite")]
    assert len(left) == 1 and left[0] != landed.encode().hex() + ".sqlite"  # its cache is the old version

    # The next invocation is a new process with the same cache directory; it retries the same add.
    successor = _worker(settings_s3.gallery_uri, cache, "victim", "after", read_timeout=READ_TIMEOUT)
    out, errors = successor.communicate(timeout=120)
    assert successor.returncode == 0, errors
    assert json.loads(out.strip().splitlines()[-1]) == {"added": ["victim", "after"], "error": None}
    assert bucket.faces_per_identity() == {"A": 1, "victim": 1, "after": 1}
    assert (
        bucket.uploads() == uploads + 2
    )  # the victim's upload and "after"; the retried add uploaded nothing
    assert [p.name for p in cache.rglob("*.sqlite")] == [bucket.etag().encode().hex() + ".sqlite"]
    assert sorted(i.name for i in gallery.list().identities) == ["A", "after", "victim"]


# ----- (e) a full local disk, answered through the Lambda handler -----------------------------------------


@pytest.fixture
def tiny_cache_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs as the cache directory (needs root; skipped where mounting is not allowed)."""
    with tiny_tmpfs(tmp_path) as mount_point:
        yield mount_point


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_full_disk_is_insufficient_storage_through_the_handler(
    s3_bucket: str,
    s3_client: Any,
    bucket: Bucket,
    gallery_settings: Settings,
    tiny_cache_disk: Path,
    testdata: Path,
    tmp_path: Path,
    faces: FaceMaker,
) -> None:
    """The cache fits one copy of the gallery but not the work copy of a write: reads keep working, writes
    answer insufficient_storage (507) and leave S3 alone; once the gallery outgrows the disk, reads say so."""
    served = dataclasses.replace(gallery_settings, cache_dir=tiny_cache_disk)
    served_pack: PackInfo = load_analyzer(served).pack
    transport = S3Transport(s3_bucket, PREFIX, s3_client)
    writer = SyncedGallery("people", transport, tmp_path / "writer-cache", sync_ttl=0)

    def grow(start: int, count: int) -> None:
        writer.add_faces(
            [
                (f"person-{i:04d}", faces.face(f"f{i}", dim=served_pack.dim), {"pad": "x" * 400})
                for i in range(start, start + count)
            ],
            pack=served_pack,
        )

    grow(0, 260)
    # One copy fits in 1 MiB; a write's three (cached, work copy, compacted snapshot) do not.
    assert 360_000 < len(bucket.raw()) < 520_000, len(bucket.raw())
    app = Application(FaceService(served))

    listed = app({"action": "list", "gallery": "people", "page_size": 5}, None)
    assert listed["ok"] and len(listed["identities"]) == 5
    etag = bucket.etag()
    image = base64.b64encode((testdata / "person_a_1.jpg").read_bytes()).decode()
    added = app({"action": "add", "gallery": "people", "name": "newcomer", "image": {"base64": image}}, None)
    assert added["ok"] is False and added["error"]["code"] == "insufficient_storage", added
    assert "no space left" in added["error"]["message"]
    body = (testdata / "person_a_1.jpg").read_bytes()
    response = app(v2_event("POST", "/galleries/people/identities/newcomer/faces", body, "image/jpeg"), None)
    assert response["statusCode"] == 507
    assert response_json(response)["error"]["code"] == "insufficient_storage"
    assert bucket.etag() == etag  # nothing was uploaded
    assert [p.suffix for p in _files(tiny_cache_disk)] == [".sqlite"]  # the cached copy; no temp files left
    assert app({"action": "get", "gallery": "people", "name": "person-0001"}, None)["ok"]

    grow(260, 400)  # now even one copy does not fit
    listed = app({"action": "list", "gallery": "people"}, None)
    assert listed["ok"] is False and listed["error"]["code"] == "insufficient_storage", listed
    response = app(v2_event("GET", "/galleries/people/identities"), None)
    assert response["statusCode"] == 507
    error: dict[str, Any] = response_json(response)["error"]
    assert error["code"] == "insufficient_storage" and "no space left on the local disk" in error["message"]
