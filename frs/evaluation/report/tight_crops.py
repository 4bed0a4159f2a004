"""The tight-crop section of report.md: ``scripts/tight_crop_check.py``'s frame-filling crops found, matched
to their uncut photo and (FRS) enrolable, per crop kind and system."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frs.evaluation.report.format import as_dict, as_list, count, rate, table, unsupported
from frs.evaluation.tight_crops.suite import SCHEMA

MEASURES = (
    ("found", "faces found"),
    ("matched", "the face found is the uncut photo's (the system's own 1:1 decision)"),
    ("enrolable", "the face found passes the enrolment quality filter"),
)


def tight_crop_section(data: Mapping[str, Any]) -> list[str]:
    """One table per measure: a row per crop kind, a column per system."""
    title = f"## Frame-filling faces (synthetic tight crops): `{data.get('dataset', '?')}`"
    if data.get("schema") != SCHEMA:
        return unsupported(title, "tight-crop check", data.get("schema"), SCHEMA)
    protocol = as_dict(data.get("protocol"))
    systems = [str(s) for s in as_list(protocol.get("systems"))]
    kinds = as_dict(protocol.get("kinds"))
    rows = [as_dict(r) for r in as_list(data.get("rows"))]
    lines = [
        title,
        "",
        f"- Measured {data.get('measured_at', '?')} at revision `{data.get('revision', '?')}`: "
        f"`{data.get('command', '?')}`",
        "",
        f"{count(protocol.get('photos'))} photos, one each of as many people drawn at random (seed "
        f"{protocol.get('seed', '?')}); every crop is cut around the face the reference detector "
        f"(`{protocol.get('reference', '?')}`) finds nearest the centre, so every system sees the same "
        "crops, each sent as a PNG. Crop kinds: "
        + "; ".join(f"`{name}` {text}" for name, text in kinds.items())
        + f". Enrolment filter: `{protocol.get('add_quality_filter', '?')}` (`FRS_ADD_QUALITY_FILTER`).",
        "",
    ]
    for key, text in MEASURES:
        present = [s for s in systems if any(r.get("system") == s and key in r for r in rows)]
        if not present:
            continue
        body = []
        for kind in kinds:
            by_system = {r.get("system"): r for r in rows if r.get("kind") == kind}
            body.append([kind, *(rate(as_dict(by_system.get(s)).get(key)) for s in present)])
        lines += [f"{text[0].upper()}{text[1:]}:", "", *table(["crop", *present], body)]
    return lines
