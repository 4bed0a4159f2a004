"""The speed part of report.md, from one ``frs bench`` file (schema ``frs-bench/2``): the aims it meets or
misses, then one table per section, every time in milliseconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from frs.evaluation.report.format import (
    as_dict,
    as_list,
    count,
    duration,
    ms,
    number,
    ratio,
    table,
    unsupported,
)

SCHEMA = "frs-bench/2"
_STATS = ("p50_ms", "p95_ms", "mean_ms", "min_ms", "max_ms")
_STAT_HEADERS = ["p50", "p95", "mean", "min", "max", "runs"]
_PHASES = {
    "process_start_to_first_result": "process start to first result",
    "init": "INIT (imports, pack load, sessions)",
    "first_request": "first request (detect)",
}
_OPERATIONS = {
    "detect": "detect",
    "detect_embed": "detect + embed (analyzer)",
    "identify": "identify",
    "add": "add",
}


def _stats(record: Any) -> list[str]:
    data = as_dict(record)
    return [*(ms(data.get(key)) for key in _STATS), count(data.get("runs"))]


def _aims(rows: list[Any]) -> list[str]:
    body = []
    for raw in rows:
        aim = as_dict(raw)
        unit = aim.get("unit")
        measured = ratio(aim.get("measured")) if unit == "x" else f"{ms(aim.get('measured'))} ms"
        goal = f"{aim.get('comparison')} {number(aim.get('target'))}{'x' if unit == 'x' else ' ms'}"
        body.append([aim.get("aim"), measured, goal, "met" if aim.get("met") else "**missed**"])
    return table(["aim", "measured", "target", "verdict"], body) if body else ["_no aim measured_", ""]


def _cold_start(section: Any) -> list[str]:
    rows = [[_PHASES.get(key, key), *_stats(stats)] for key, stats in as_dict(section).items()]
    return table(["phase (ms)", *_STAT_HEADERS], rows)


def _warm(section: Any) -> list[str]:
    rows = []
    for photo, operations in as_dict(section).items():
        for name, stats in as_dict(operations).items():
            rows.append([f"`{photo}`", _OPERATIONS.get(name, name), *_stats(stats)])
    return table(["photo", "operation (ms)", *_STAT_HEADERS], rows)


def _throughput(section: Any) -> list[str]:
    data = as_dict(section)
    row = [
        count(data.get("workers")),
        count(data.get("images")),
        number(data.get("seconds")),
        number(data.get("images_per_second")),
    ]
    return table(["worker processes (1 thread each)", "images", "seconds", "images / s"], [row])


def _contenders(section: Mapping[str, Any]) -> list[str]:
    described = as_dict(section.get("contenders"))
    return [*(f"- `{name}`: {text}" for name, text in described.items()), ""] if described else []


def _comparison(
    section: Any, contenders: Sequence[tuple[str, str]], ratios: Sequence[tuple[str, str]]
) -> list[str]:
    """Per photo: each contender's p50, the ratios the bench computed, and the faces each found."""
    data = as_dict(section)
    rows = []
    for photo, raw in as_dict(data.get("photos")).items():
        entry = as_dict(raw)
        faces = as_dict(entry.get("faces"))
        rows.append(
            [
                f"`{photo}`",
                *(ms(as_dict(entry.get(key)).get("p50_ms")) for key, _ in contenders),
                *(ratio(entry.get(key)) for key, _ in ratios),
                " / ".join(count(faces.get(key)) for key, _ in contenders),
            ]
        )
    headers = [
        "photo",
        *(f"{label} p50 ms" for _, label in contenders),
        *(label for _, label in ratios),
        f"faces found ({' / '.join(label for _, label in contenders)})",
    ]
    return [*table(headers, rows), *_contenders(data)]


def _peers(section: Any) -> list[str]:
    contenders = [("frs", "FRS"), ("faceanalysis", "FaceAnalysis"), ("face_recognition", "face_recognition")]
    ratios = [
        ("ratio_vs_faceanalysis", "FRS / FaceAnalysis"),
        ("ratio_vs_face_recognition", "FRS / face_recognition"),
    ]
    return _comparison(section, contenders, ratios)


def _detector(section: Any) -> list[str]:
    contenders = [("frs", "FRS"), ("scrfd_2.5g", "SCRFD-2.5G")]
    return _comparison(section, contenders, [("speedup_vs_scrfd_2.5g", "SCRFD / FRS (speed-up)")])


def _search(section: Any) -> list[str]:
    rows = []
    for raw in as_list(section):
        entry = as_dict(raw)
        rows.append(
            [
                count(entry.get("identities")),
                count(entry.get("dim")),
                ms(entry.get("p50_ms")),
                ms(entry.get("p95_ms")),
                ms(entry.get("min_ms")),
                count(entry.get("runs")),
                number(entry.get("matcher_mb")),
            ]
        )
    headers = ["identities", "dim", "p50 ms", "p95 ms", "min ms", "runs", "matcher MB"]
    return table(headers, rows)


_SECTIONS = (
    ("cold_start", "Cold start (a new process per run)", _cold_start),
    ("warm", "Warm latency per photo, through the service", _warm),
    ("throughput", "Throughput, detect + embed of one face", _throughput),
    ("peers", "Detect + embed against the peers (same bytes, runs interleaved)", _peers),
    ("detector", "Detection alone against SCRFD-2.5G", _detector),
    ("search", "Gallery search, exact in-memory matcher (top 10, synthetic unit vectors)", _search),
)


def _model_files(pack: Mapping[str, Any]) -> str:
    """The pack's model files in pipeline order; a bench file from before landmarkers names none."""
    return " + ".join(str(pack[role]) for role in ("detector", "landmarker", "recognizer") if pack.get(role))


def speed_section(data: Mapping[str, Any]) -> list[str]:
    pack = as_dict(data.get("pack"))
    title = f"## Speed: pack `{pack.get('name', '?')}`"
    if data.get("schema") != SCHEMA:
        return unsupported(title, "bench", data.get("schema"), SCHEMA)
    lines = [title, ""]
    lines += [
        f"Measured {data.get('measured_at', '?')} in {duration(data.get('duration_s'))} "
        f"(machine: see Machines), {number(data.get('runs_per_timing'))} timed runs per figure after 2 "
        f"warm-up runs. Pack `{pack.get('name')}`: {_model_files(pack)} "
        f"({number(pack.get('dim'))}-d). Command: `{data.get('command', '?')}`.",
        "",
    ]
    if data.get("quick"):
        lines += ["**Quick run**: few repetitions, a smoke test; do not quote these figures.", ""]
    lines += [
        "The machine may be shared (see its load average): absolute times are noisy. The peer comparisons "
        "are ratios of medians measured in turns in the same process, which noise affects far less.",
        "",
        "### Speed aims",
        "",
        *_aims(as_list(data.get("aims"))),
    ]
    for key, title_text, render in _SECTIONS:
        lines += [f"### {title_text}", ""]
        section = data.get(key)
        lines += render(section) if section is not None else ["_not measured_", ""]
    return lines
