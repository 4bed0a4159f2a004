"""Real ``frs bench --quick`` and ``frs eval`` runs through the CLI, made once per test session and shared by
the bench and report tests (a quick bench takes about a minute; nothing here is hand-made)."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from frs.cli.main import main
from frs.config import REPO_ROOT

TESTDATA = REPO_ROOT / ".cache" / "testdata"


@functools.cache
def workdir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="frs-measurements-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _run(*argv: str) -> None:
    code = main(list(argv))
    if code != 0:
        raise RuntimeError(f"frs {' '.join(argv)} exited {code}")


@functools.cache
def quick_bench() -> Path:
    """bench.json of ``frs --pack open bench --quick`` on the pinned test photos."""
    out = workdir() / "bench.json"
    _run("--pack", "open", "bench", "--quick", "--photos", str(TESTDATA), "--out", str(out))
    return out


@functools.cache
def pinned_dataset() -> Path:
    """``frs testdata dataset``: the pinned photos as DATASET/<identity>/<photo> (3 people with 2+ photos)."""
    dest = workdir() / "pinned"
    _run("--pack", "open", "testdata", "dataset", "--photos", str(TESTDATA), "--dest", str(dest))
    return dest


@functools.cache
def pinned_eval() -> Path:
    """eval.json of ``frs --pack open eval`` with the face_recognition peer on :func:`pinned_dataset`."""
    out = workdir() / "eval-open"
    _run(
        "--pack",
        "open",
        "eval",
        str(pinned_dataset()),
        "--gallery-sizes",
        "all",
        "--peer",
        "face_recognition",
        "--draws",
        "5",
        "--out",
        str(out),
    )
    return out / "eval.json"


def load(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text())
    return value
