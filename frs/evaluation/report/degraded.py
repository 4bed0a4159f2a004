"""The degraded-copy section of report.md: ``scripts/degraded_check.py``'s faces found, FNIR and FPIR per
condition, before (illumination step off) and after (on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frs.evaluation.report.format import as_dict, as_list, count, rate, table, target, threshold, unsupported

DEGRADED_SCHEMA = "frs-degraded/1"


def degraded_section(data: Mapping[str, Any]) -> list[str]:
    """One table per gallery size: a row per condition, a column pair (step off / on) per measure."""
    title = f"## Degraded copies (low light, grayscale, noise): `{data.get('dataset', '?')}`"
    if data.get("schema") != DEGRADED_SCHEMA:
        return unsupported(title, "degraded check", data.get("schema"), DEGRADED_SCHEMA)
    protocol = as_dict(data.get("protocol"))
    modes = [str(m) for m in as_list(data.get("modes"))]
    rows = [as_dict(r) for r in as_list(data.get("rows"))]
    mated = as_dict(protocol.get("mated"))
    lines = [
        title,
        "",
        f"- Measured {data.get('measured_at', '?')}: `{data.get('command', '?')}`",
        "",
        f"Pack `{data.get('pack')}`, the test half of {count(protocol.get('people'))} people (split by "
        "person). Each gallery size: one seeded draw, one **clean** photo enrolled per person; one other "
        "photo of each "
        f"enrolled person searches (mated) and {count(protocol.get('strangers'))} photos of people not "
        "enrolled search as strangers, every search photo **degraded** by the condition (JPEG 95). Default "
        f"operating point: the calibrated threshold for FPIR {target(protocol.get('target_fpir'))} at the "
        "gallery's size. Faces found counts every search photo (mated and strangers). Columns: the "
        "illumination step "
        + " / ".join(f"`{m}`" for m in modes)
        + " (`FRS_ILLUMINATION`; `detect` re-looks only where nothing was found in a dark frame).",
        "",
    ]
    for size in as_list(protocol.get("gallery_sizes")):
        lines += [f"### N = {count(size)} enrolled ({count(mated.get(str(size)))} mated searches)", ""]
        body = []
        for condition in as_list(data.get("conditions")):
            by_mode = {
                r.get("mode"): r
                for r in rows
                if r.get("condition") == condition and r.get("gallery_size") == size
            }
            cells: list[str] = [str(condition)]
            for measure in ("faces_found", "fnir", "fpir"):
                cells += [rate(as_dict(by_mode.get(m)).get(measure)) for m in modes]
            body.append(cells)
        thresholds = {as_dict(r).get("threshold") for r in rows if r.get("gallery_size") == size}
        headers = ["condition"]
        for measure in ("faces found", "FNIR", "FPIR"):
            headers += [f"{measure} `{m}`" for m in modes]
        lines += table(headers, body)
        lines += ["", f"Threshold: {', '.join(threshold(t) for t in sorted(thresholds, key=str))}.", ""]
    return lines
