"""Start ``frs serve`` as a real process for end-to-end tests, and stop it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from frs.config import REPO_ROOT
from harness.s3 import free_port


@contextmanager
def running_server(
    root: Path,
    extra_env: dict[str, str] | None = None,
    *,
    global_options: Sequence[str] = (),
    serve_options: Sequence[str] = (),
) -> Iterator[str]:
    """``frs [GLOBAL_OPTIONS] serve --port P [SERVE_OPTIONS]`` on a free port with galleries under ``root``
    (or wherever ``extra_env`` points)."""
    port = free_port()
    env = {
        **os.environ,
        "FRS_GALLERY_URI": str(root / "galleries"),
        "FRS_CACHE_DIR": str(root / "cache"),
        "FRS_SYNC_TTL": "0",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "frs", *global_options, "serve", "--port", str(port), *serve_options],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError) as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"frs serve did not start; see {root / 'serve.log'}") from exc
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
