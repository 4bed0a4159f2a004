"""Starting ``gallery_worker.py`` processes (separate writers, like separate Lambda instances) and waiting for
the marker files they create; a worker that dies or a marker that never comes fails the test loudly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from frs.config import REPO_ROOT

WORKER = REPO_ROOT / "tests" / "gallery" / "file" / "gallery_worker.py"


def start_worker(
    uri: str, cache: Path, names: Sequence[str], *options: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``gallery_worker.py URI CACHE people NAME... OPTIONS`` with this environment (plus ``env``)."""
    return subprocess.Popen(
        [sys.executable, str(WORKER), uri, str(cache), "people", *names, *options],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, worker: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Until ``worker`` creates ``path``; AssertionError if it exits first or takes over ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if worker.poll() is not None:
            _, err = worker.communicate()
            raise AssertionError(f"worker exited with {worker.returncode} before {path.name}:\n{err[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"worker did not create {path.name} within {timeout:.0f} s")
        time.sleep(0.02)
