"""Where and when a measurement ran: written into every ``frs eval`` and ``frs bench`` file, so report.md
states the measuring machine and time, not the machine and time it was rendered on."""

from __future__ import annotations

import datetime as dt
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read_text("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"model name", "Hardware", "Processor"} and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def _memory_gib() -> float | None:
    for line in _read_text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def package_version(*distributions: str) -> str:
    """The installed version of the first of ``distributions`` that is installed."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, OS, the versions that matter for speed, and the load when the run started (the
    machine may be shared: a high load means noisy timings)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": len(affinity(0)) if affinity else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_1_5_15_min": _load_average(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": package_version("numpy"),
        "onnxruntime": package_version("onnxruntime", "onnxruntime-gpu"),
        "opencv": package_version("opencv-python-headless", "opencv-python"),
    }


def utc_now() -> str:
    """The current time, ISO 8601 in UTC to the second (``2026-01-31T12:00:00Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
