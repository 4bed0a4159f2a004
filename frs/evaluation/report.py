"""report.md: the measured accuracy (``eval.json``) and speed (bench JSON) as markdown tables.

Both inputs are plain dicts read from JSON, and any section may be missing or shaped unexpectedly: the report
says "not measured" or falls back to a generic key/value table rather than failing.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

_MAX_LISTED_IMAGES = 20
_BENCH_SECTIONS = ("cold_start", "warm", "throughput", "search", "faceanalysis_ratio")
_BENCH_TITLES = {
    "cold_start": "Cold start (ms)",
    "warm": "Warm latency per photo (ms)",
    "throughput": "Throughput",
    "search": "Gallery search (ms)",
    "faceanalysis_ratio": "Compared with insightface FaceAnalysis",
}
_BENCH_SKIP = {"pack", "machine", "commands"}


# ------------------------------------------------------------------------------------------------- machine


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


def _version(*distributions: str) -> str:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def machine_info() -> dict[str, Any]:
    """Where the numbers were measured: CPU, cores, memory, OS and the versions that matter for speed."""
    affinity = getattr(os, "sched_getaffinity", None)
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": len(affinity(0)) if affinity else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "onnxruntime": _version("onnxruntime", "onnxruntime-gpu"),
        "opencv": _version("opencv-python-headless", "opencv-python"),
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    lambda_memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    if lambda_memory:
        info["lambda_memory_mb"] = lambda_memory
    return info


# ---------------------------------------------------------------------------------------------- formatting


def _number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    return str(value)


def _pct(value: Any) -> str:
    return f"{100 * value:.2f} %" if isinstance(value, int | float) and not isinstance(value, bool) else "n/a"


def _ms(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    # Sub-10 ms figures (gallery search) need more than one decimal to be worth reading.
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested dicts as ("a / b", value) rows, for sections whose shape we do not know."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix} / {key}" if prefix else str(key))
        return rows
    if isinstance(value, list | tuple):
        return [(prefix, ", ".join(_number(item) for item in value))]
    return [(prefix or "value", _number(value))]


def _generic(value: Any) -> list[str]:
    rows = _flatten(value)
    return _table(["metric", "value"], rows) if rows else ["_empty_", ""]


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


# -------------------------------------------------------------------------------------------------- accuracy


def _identification(section: Mapping[str, Any]) -> list[str]:
    open_set = _dict(section.get("open_set"))
    gallery = (
        f"Gallery: {_number(section.get('n_gallery_identities'))} identities, "
        f"{_number(section.get('n_gallery_images'))} images."
    )
    probes = (
        f"Probes: {_number(section.get('n_known_probes'))} of enrolled people, "
        f"{_number(section.get('n_unknown_probes'))} of people never enrolled."
    )
    lines = ["### Identification (1:N)", "", f"{gallery} {probes}", ""]
    rows = [
        ["Top-1 accuracy (enrolled probes)", _pct(section.get("top1"))],
        ["Top-5 accuracy (enrolled probes)", _pct(section.get("top5"))],
        [f"Open-set precision at {_number(open_set.get('threshold'))}", _pct(open_set.get("precision"))],
        ["Open-set recall (accepted and correct)", _pct(open_set.get("recall"))],
        ["False-accept rate (unknown probes accepted)", _pct(open_set.get("false_accept_rate"))],
        ["False-reject rate (enrolled probes rejected)", _pct(open_set.get("false_reject_rate"))],
        ["Misidentification rate (accepted as someone else)", _pct(open_set.get("misidentification_rate"))],
    ]
    lines += _table(["metric", "value"], rows)
    missing = section.get("identities_without_gallery_face") or []
    if missing:
        note = "Enrolled identities with no usable gallery face (their probes count as unknown)"
        lines += [f"{note}: {len(missing)}.", ""]
    return lines


def _verification(section: Mapping[str, Any], mode: Any) -> list[str]:
    pairs = "the listed pairs" if mode == "pairs" else "every pair of images"
    lines = [
        "### Verification (1:1)",
        "",
        f"Over {pairs}: {_number(section.get('n_genuine'))} genuine, {_number(section.get('n_impostor'))} "
        "impostor.",
        "",
    ]
    rows: list[list[str]] = []
    for raw in section.get("tar_at_far") or []:
        entry = _dict(raw)
        target = _number(entry.get("target_far"))
        if entry.get("unmeasurable") or entry.get("tar") is None:
            rows.append([f"TAR @ FAR {target}", "not measurable (too few impostor pairs)", ""])
        else:
            rows.append([f"TAR @ FAR {target}", _pct(entry.get("tar")), _number(entry.get("threshold"))])
    eer = _dict(section.get("eer"))
    rows.append(["EER", _pct(eer.get("rate")), _number(eer.get("threshold"))])
    best = _dict(section.get("best_threshold"))
    criterion = str(best.get("criterion", "accuracy")).replace("_", " ")
    best_value = best.get(str(best.get("criterion", "accuracy")))
    rows.append([f"Best {criterion}", _pct(best_value), _number(best.get("threshold"))])
    at = _dict(section.get("at_threshold"))
    rows.append(["TAR at the service threshold", _pct(at.get("tar")), _number(at.get("threshold"))])
    rows.append(["FAR at the service threshold", _pct(at.get("far")), _number(at.get("threshold"))])
    return lines + _table(["metric", "value", "threshold"], rows)


def _issues(issues: Mapping[str, Any]) -> list[str]:
    groups = [
        ("No face found (left out)", [str(p) for p in issues.get("no_face") or []]),
        ("Several faces (largest used)", [str(p) for p in issues.get("multiple_faces") or []]),
        (
            "Failed (left out)",
            [f"{_dict(f).get('path')} ({_dict(f).get('code')})" for f in issues.get("failed") or []],
        ),
    ]
    lines = ["### Images not giving exactly one face", ""]
    lines += _table(["kind", "images"], [[title, len(paths)] for title, paths in groups])
    for title, paths in groups:
        if paths:
            shown = ", ".join(f"`{p}`" for p in paths[:_MAX_LISTED_IMAGES])
            more = f" and {len(paths) - _MAX_LISTED_IMAGES} more" if len(paths) > _MAX_LISTED_IMAGES else ""
            lines += [f"- {title}: {shown}{more}"]
    return [*lines, ""]


def _accuracy(eval_json: Mapping[str, Any]) -> list[str]:
    lines = ["## Accuracy", ""]
    params = _dict(eval_json.get("parameters"))
    described = ", ".join(f"{key}={_number(value)}" for key, value in params.items())
    lines += [
        f"Source: `{eval_json.get('source', '?')}` ({eval_json.get('mode', '?')} mode"
        + (f", {described}" if described else "")
        + f"). Service match threshold: {_number(eval_json.get('threshold'))}.",
        "",
    ]
    counts = _dict(eval_json.get("counts"))
    if counts:
        lines += _table(
            ["count", "value"], [[key.replace("_", " "), _number(v)] for key, v in counts.items()]
        )
    identification = eval_json.get("identification")
    if isinstance(identification, Mapping):
        lines += _identification(identification)
    verification = eval_json.get("verification")
    if isinstance(verification, Mapping):
        lines += _verification(verification, eval_json.get("mode"))
    lines += _issues(_dict(eval_json.get("issues")))
    plots = _dict(eval_json.get("plots"))
    if plots:
        lines += ["### Plots", ""]
        lines += [f"![{name}]({path})" for name, path in plots.items()]
        lines.append("")
    notes = eval_json.get("notes") or []
    if notes:
        lines += ["Notes:", "", *[f"- {note}" for note in notes], ""]
    return lines


# ----------------------------------------------------------------------------------------------------- speed


def _cold_start(section: Any) -> list[str]:
    data = _dict(section)
    if not {"min", "median", "max"} & data.keys():
        return _generic(section)
    return _table(["min", "median", "max"], [[_ms(data.get(k)) for k in ("min", "median", "max")]])


def _warm(section: Any) -> list[str]:
    data = _dict(section)
    if not data or not all(isinstance(v, Mapping) for v in data.values()):
        return _generic(section)
    # Either {operation: stats} or, as `frs bench` writes it, {photo: {operation: stats}}.
    flat: dict[str, Any] = {}
    for key, value in data.items():
        nested = {op: st for op, st in _dict(value).items() if isinstance(st, Mapping)}
        if nested and "p50" not in _dict(value):
            flat.update({f"{op} · {key}": st for op, st in nested.items()})
        else:
            flat[key] = value
    rows = [
        [op, *(_ms(_dict(stats).get(k)) for k in ("p50", "p95", "min", "max"))] for op, stats in flat.items()
    ]
    return _table(["operation", "p50", "p95", "min", "max"], rows)


def _search(section: Any) -> list[str]:
    data = _dict(section)
    if not data or not all(isinstance(v, int | float) for v in data.values()):
        return _generic(section)
    return _table(["gallery size x dim", "ms"], [[key, _ms(value)] for key, value in data.items()])


def _speed(bench_json: Mapping[str, Any]) -> list[str]:
    lines = ["## Speed", ""]
    renderers = {"cold_start": _cold_start, "warm": _warm, "search": _search}
    others = [key for key in bench_json if key not in _BENCH_SECTIONS and key not in _BENCH_SKIP]
    for key in [*_BENCH_SECTIONS, *others]:
        title = _BENCH_TITLES.get(key, key.replace("_", " ").capitalize())
        lines += [f"### {title}", ""]
        if key not in bench_json or bench_json[key] is None:
            lines += ["_not measured_", ""]
            continue
        lines += renderers.get(key, _generic)(bench_json[key])
    return lines


# ---------------------------------------------------------------------------------------------------- report


def _pack(eval_json: Mapping[str, Any] | None, bench_json: Mapping[str, Any] | None) -> str:
    for source in (eval_json, bench_json):
        pack = (source or {}).get("pack")
        if isinstance(pack, Mapping) and pack.get("name"):
            dim = f" (embedding dim {pack['dim']})" if pack.get("dim") else ""
            return f"`{pack['name']}`{dim}"
        if isinstance(pack, str) and pack:
            return f"`{pack}`"
    return "unknown"


def render_report(
    eval_json: Mapping[str, Any] | None,
    bench_json: Mapping[str, Any] | None,
    machine: Mapping[str, Any],
    commands: Sequence[str],
) -> str:
    """The report.md text; plot links come from ``eval_json["plots"]``, relative to the report's folder."""
    lines = ["# FRS: measured accuracy and speed", ""]
    lines += [
        "## Machine",
        "",
        *_table(["property", "value"], [[key, _number(v)] for key, v in machine.items()]),
    ]
    lines += [f"Model pack: {_pack(eval_json, bench_json)}", ""]
    lines += _accuracy(eval_json) if eval_json else ["## Accuracy", "", "_not measured_", ""]
    lines += _speed(bench_json) if bench_json else ["## Speed", "", "_not measured_", ""]
    lines += ["## Reproduce", ""]
    if commands:
        lines += ["```sh", *commands, "```", ""]
    else:
        lines += ["_commands not recorded_", ""]
    return "\n".join(lines).rstrip() + "\n"
