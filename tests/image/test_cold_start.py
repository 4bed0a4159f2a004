"""Cold start inside the image, from the emulator's own INIT REPORT and INVOKE RTDONE lines (median of 5 fresh
containers, Lambda's constraints), and warm identify latency in the container vs `frs serve` on the same
photo.

Figures only: printed and written to .cache/image/timings.json for `make image-test` to show. Nothing here
asserts a speed (a shared 2-core machine is noisy); the tests assert that every timed answer was right."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

import requests

from frs.config import REPO_ROOT
from harness.s3 import free_port
from tests.image.conftest import PACK, event
from tests.image.emulator import INVOKE_DONE, LambdaContainer, cold_start_from_logs, medians

TIMINGS = REPO_ROOT / ".cache" / "image" / "timings.json"
COLD_STARTS = 5
WARM_REQUESTS = 20
THREADS = "2"  # the same onnxruntime threads in the container and in `frs serve`


def _record(key: str, value: object) -> None:
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    timings[key] = value
    TIMINGS.write_text(json.dumps(timings, indent=2))
    print(f"\n{key}: {json.dumps(value)}")


def test_cold_start_medians(image: str) -> None:
    samples = []
    for _ in range(COLD_STARTS):
        with LambdaContainer(image, env={"FRS_GALLERY_URI": "/tmp/frs/galleries"}) as fn:
            answer = fn.invoke(event("identify"))
            assert answer["ok"] is True and len(answer["faces"]) == 1
            samples.append(cold_start_from_logs(fn.logs_with(INVOKE_DONE)))
    _record("cold_start", {**medians(samples), "samples": [vars(s) for s in samples]})


def _median_ms(call: object, count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return round(median(times), 1)


def test_warm_identify_in_the_container_vs_frs_serve(image: str, tmp_path: Path) -> None:
    photo = base64.b64decode(event("identify")["image"]["base64"])

    def container_identify() -> None:
        assert fn.invoke(event("identify"))["faces"][0]["identity"] == "person_b"

    env = {"FRS_GALLERY_URI": "/tmp/frs/galleries", "FRS_THREADS": THREADS}
    with LambdaContainer(image, env=env) as fn:
        fn.invoke(event("add"))
        container_identify()  # warm
        in_container = _median_ms(container_identify, WARM_REQUESTS)

    port = free_port()
    serve_env = {k: v for k, v in os.environ.items() if not k.startswith("FRS_")}
    serve_env.update({"FRS_PACK": PACK, "FRS_THREADS": THREADS, "FRS_GALLERY_URI": str(tmp_path / "g")})
    server = subprocess.Popen(
        [sys.executable, "-m", "frs", "serve", "--port", str(port)],
        cwd=REPO_ROOT, env=serve_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{base}/health", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "frs serve did not start"
                time.sleep(0.5)
        added = requests.post(
            f"{base}/galleries/default/identities/person_b/faces",
            data=photo, headers={"Content-Type": "image/jpeg"}, timeout=60,
        )  # fmt: skip
        assert added.status_code == 201, added.text

        def serve_identify() -> None:
            response = requests.post(
                f"{base}/galleries/default/identify",
                data=photo, headers={"Content-Type": "image/jpeg"}, timeout=60,
            )  # fmt: skip
            assert response.json()["faces"][0]["identity"] == "person_b"

        serve_identify()  # warm
        on_host = _median_ms(serve_identify, WARM_REQUESTS)
    finally:
        server.terminate()
        server.wait(timeout=30)
    _record(
        "warm_identify_ms",
        {"container": in_container, "frs_serve": on_host, "requests": WARM_REQUESTS, "threads": THREADS},
    )
