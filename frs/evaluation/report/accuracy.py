"""The accuracy part of report.md: one section per ``frs eval`` file (schema ``frs-eval/2``), with the FRVT
open-set tables, the verification tables and the plots, every system of the file side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from frs.evaluation.report.format import (
    NOT_AVAILABLE,
    as_dict,
    as_list,
    count,
    duration,
    number,
    percent,
    rate,
    table,
    target,
    threshold,
    unsupported,
)
from frs.evaluation.report.kfold import kfold_section

SCHEMA = "frs-eval/2"
_MAX_LISTED_IMAGES = 10
_SOURCES = {
    "calibrated": "calibrated",
    "pack_default": "pack's fixed threshold",
    "explicit": "explicit --threshold",
    "peer_default": "library default",
}

PROTOCOL_TEXT = (
    "For each gallery size N, every draw enrols N people chosen at random among those with two or more "
    "photos (at most half of them, so that strangers of every kind remain; the rest of a larger gallery "
    "are people with one photo), one random photo each. Mated searches are the other photos of the "
    "enrolled people (at most the mated cap per person, chosen at random); non-mated searches are every "
    "photo of everyone not enrolled. As in NIST FRVT (rank 1): **FNIR** is the share of "
    "mated searches that do not name the right person (missed, named as someone else, or no face found), "
    "**FPIR** the share of non-mated searches that name anyone. FNIR at a fixed FPIR uses the threshold "
    "that gives that FPIR on this run's non-mated searches; it is reported only when there are at least "
    "1/FPIR distinct non-mated photos. Rates are pooled over the draws with Wilson 95% intervals; the draws "
    "reuse the same photos, so the distinct photo counts are the real sample sizes and the intervals are "
    "narrower than the data warrant."
)


def _point(record: Any) -> str:
    data = as_dict(record)
    source = _SOURCES.get(str(data.get("source")), str(data.get("source", "?")))
    goal = ""
    if "target_fpir" in data:
        goal = f", target FPIR {target(data['target_fpir'])}"
    elif "target_far" in data:
        goal = f", target FAR {target(data['target_far'])}"
    return f"{threshold(data.get('threshold'))} ({source}{goal})"


def _systems(systems: list[dict[str, Any]], first_size: int | None) -> list[str]:
    rows = []
    for system in systems:
        details = as_dict(system.get("details"))
        if "pack" in details:
            what = f"pack `{details['pack']}`: {details.get('detector')} + {details.get('recognizer')}"
            calibration = as_dict(details.get("calibration"))
            what += f"; calibration: {calibration.get('dataset', 'none in the manifest')}"
        else:
            what = str(details.get("pipeline", ""))
        verification = as_dict(system.get("verification"))
        ident = [as_dict(s) for s in as_list(as_dict(system.get("identification")).get("gallery_sizes"))]
        one_n = _point(ident[0].get("default_operating_point")) if ident else "n/a"
        label = f"{one_n} at N = {first_size}" if ident else one_n
        rows.append(
            [
                system.get("label", system.get("name")),
                what,
                system.get("score", ""),
                label,
                _point(verification.get("default_operating_point")) if verification else "n/a",
            ]
        )
    return table(["system", "pipeline", "score", "default 1:N point", "default 1:1 point"], rows)


def _images(systems: list[dict[str, Any]], rule: str) -> list[str]:
    rows, lists = [], []
    for system in systems:
        images = as_dict(system.get("images"))
        no_face, failed = as_list(images.get("no_face")), as_list(images.get("failed"))
        several = as_list(images.get("multiple_faces"))
        rows.append(
            [
                system.get("label"),
                count(images.get("total")),
                count(images.get("embedded")),
                count(len(no_face)),
                count(len(failed)),
                count(len(several)),
            ]
        )
        missing = [str(p) for p in no_face] + [
            f"{as_dict(f).get('path')} ({as_dict(f).get('code')})" for f in failed
        ]
        if missing:
            shown = ", ".join(f"`{p}`" for p in missing[:_MAX_LISTED_IMAGES])
            more = (
                f" and {len(missing) - _MAX_LISTED_IMAGES} more" if len(missing) > _MAX_LISTED_IMAGES else ""
            )
            lists.append(f"- {system.get('label')}, no usable face: {shown}{more}")
    headers = ["system", "photos", "with a face", "no face", "failed", f"several faces ({rule} used)"]
    return [*table(headers, rows), *lists, *([""] if lists else [])]


def _fnir_at_fpir(systems: list[dict[str, Any]], targets: list[Any]) -> list[str]:
    headers = [
        "system",
        "N",
        "draws",
        "mated searches (distinct photos)",
        "non-mated searches (distinct photos)",
    ]
    for goal in targets:
        headers += [f"FNIR @ FPIR {target(goal)}", "threshold"]
    headers.append("rank-1 identification (any score)")
    rows = []
    for system in systems:
        for size in as_list(as_dict(system.get("identification")).get("gallery_sizes")):
            data = as_dict(size)
            searches, distinct = as_dict(data.get("searches")), as_dict(data.get("distinct_photos"))
            row = [
                system.get("label"),
                count(data.get("gallery_size")),
                count(data.get("draws")),
                f"{count(searches.get('mated'))} ({count(distinct.get('mated'))})",
                f"{count(searches.get('nonmated'))} ({count(distinct.get('nonmated'))})",
            ]
            found = {as_dict(e).get("target_fpir"): as_dict(e) for e in as_list(data.get("fnir_at_fpir"))}
            for goal in targets:
                entry = found.get(goal, {})
                if entry.get("measurable"):
                    row += [rate(entry.get("fnir")), threshold(entry.get("threshold"))]
                else:
                    row += [f"not measurable: {entry.get('reason', 'not run')}", ""]
            row.append(rate(data.get("rank_one_identification")))
            rows.append(row)
    return table(headers, rows)


def _calibration_error(point: dict[str, Any]) -> list[str]:
    """FPIR over its target, the oracle's FNIR at the target, and what the difference costs in FNIR."""
    if "fpir_over_target" not in point:
        return ["", "", ""]
    ratio = point.get("fpir_over_target")
    oracle = as_dict(point.get("oracle_at_target"))
    gap = point.get("fnir_gap")
    return [
        f"{ratio:.2f}x" if isinstance(ratio, int | float) else NOT_AVAILABLE,
        f"{rate(oracle.get('fnir'))} at {threshold(oracle.get('threshold'))}" if oracle else "not measurable",
        f"{100 * gap:+.2f} points" if isinstance(gap, int | float) else NOT_AVAILABLE,
    ]


def _at_default(systems: list[dict[str, Any]]) -> list[str]:
    headers = [
        "system",
        "N",
        "threshold (source)",
        "FPIR",
        "FNIR",
        "of which named as someone else",
        "FPIR / target",
        "oracle FNIR at the target FPIR",
        "FNIR - oracle",
    ]
    rows = []
    for system in systems:
        for size in as_list(as_dict(system.get("identification")).get("gallery_sizes")):
            data = as_dict(size)
            point = as_dict(data.get("default_operating_point"))
            used = as_list(point.get("thresholds_used"))
            shown = _point(point)
            if len(used) == 2 and used[0] != used[1]:
                shown += f"; {threshold(used[0])} to {threshold(used[1])} over draws with failed enrolments"
            rows.append(
                [
                    system.get("label"),
                    count(data.get("gallery_size")),
                    shown,
                    rate(point.get("fpir")),
                    rate(point.get("fnir")),
                    count(point.get("named_wrongly")),
                    *_calibration_error(point),
                ]
            )
    return table(headers, rows)


def _verification(systems: list[dict[str, Any]], targets: list[Any]) -> list[str]:
    headers = ["system", "genuine pairs", "impostor pairs"]
    headers += [f"TAR @ FAR {target(goal)}" for goal in targets]
    headers += ["EER", "default threshold (source)", "TAR at default", "FAR at default"]
    rows = []
    for system in systems:
        data = as_dict(system.get("verification"))
        if not data:
            continue
        found = {as_dict(e).get("target_far"): as_dict(e) for e in as_list(data.get("tar_at_far"))}
        cells = []
        for goal in targets:
            entry = found.get(goal, {})
            measured = entry.get("measurable")
            cells.append(
                f"{rate(entry.get('tar'))} at {threshold(entry.get('threshold'))}"
                if measured
                else f"not measurable: {entry.get('reason', 'not run')}"
            )
        point = as_dict(data.get("default_operating_point"))
        eer = as_dict(data.get("eer"))
        failed = as_dict(data.get("failed_pairs"))
        genuine = count(data.get("genuine_pairs"))
        if failed.get("genuine"):
            genuine += f" ({count(failed['genuine'])} without a face: rejected)"
        rows.append(
            [
                system.get("label"),
                genuine,
                count(data.get("impostor_pairs")),
                *cells,
                f"{percent(eer.get('rate'))} % at {threshold(eer.get('threshold'))}",
                _point(point),
                rate(point.get("tar")),
                rate(point.get("far")),
            ]
        )
    return table(headers, rows) if rows else ["_not measured_", ""]


def _plots(systems: list[dict[str, Any]]) -> list[str]:
    lines = []
    titles = {"det": "DET", "roc": "ROC", "scores": "score histograms"}
    for system in systems:
        for kind, path in as_dict(system.get("plots")).items():
            lines.append(f"![{system.get('label')}: {titles.get(kind, kind)}]({path})")
    return [*lines, ""] if lines else []


def merge_evaluations(evals: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Eval files of the same dataset and protocol (say one per pack) as one section with all their systems
    side by side; each keeps its own run record (time, duration, command). Order is kept."""
    merged: list[dict[str, Any]] = []
    for data in evals:
        run = {key: data.get(key) for key in ("measured_at", "duration_s", "command")}
        key = (
            data.get("schema"),
            data.get("mode"),
            as_dict(data.get("dataset")).get("source"),
            repr(data.get("protocol")),
        )
        same = next((m for m in merged if m["_key"] == key and data.get("schema") == SCHEMA), None)
        if same is None:
            merged.append({**data, "_key": key, "runs": [run], "systems": as_list(data.get("systems"))})
            continue
        same["systems"] = [*same["systems"], *as_list(data.get("systems"))]
        same["runs"].append(run)
        same["notes"] = [
            *as_list(same.get("notes")),
            *(n for n in as_list(data.get("notes")) if n not in same["notes"]),
        ]
    return merged


def accuracy_section(data: Mapping[str, Any]) -> list[str]:
    """The section of one eval.json, or of several merged by :func:`merge_evaluations`."""
    dataset = as_dict(data.get("dataset"))
    title = f"## Accuracy: `{dataset.get('name', '?')}`"
    if data.get("schema") != SCHEMA:
        return unsupported(title, "eval", data.get("schema"), SCHEMA)
    systems = [as_dict(s) for s in as_list(data.get("systems"))]
    protocol = as_dict(data.get("protocol"))
    lines = [title, ""]
    runs = as_list(data.get("runs")) or [data]
    for run in map(as_dict, runs):
        lines.append(
            f"- Measured {run.get('measured_at', '?')} in {duration(run.get('duration_s'))} "
            f"(machine: see Machines): `{run.get('command', '?')}`"
        )
    lines.append("")
    if data.get("mode") == "dataset":
        lines += [
            f"Dataset `{dataset.get('source')}`: {count(dataset.get('identities'))} identities, "
            f"{count(dataset.get('images'))} photos; "
            f"{count(dataset.get('identities_with_two_or_more_photos'))} identities have two or more photos "
            f"({count(dataset.get('photos_of_those_identities'))} photos), "
            f"{count(dataset.get('single_photo_identities'))} have one.",
            "",
        ]
    else:
        lines += [
            f"Pairs `{dataset.get('source')}`: {count(dataset.get('pairs'))} pairs "
            f"({count(dataset.get('genuine_pairs'))} same person, {count(dataset.get('impostor_pairs'))} "
            f"different), {count(dataset.get('images'))} photos.",
            "",
        ]
    sizes = as_list(protocol.get("gallery_sizes"))
    lines += _systems(systems, sizes[0] if sizes else None)
    # Results written before the rule existed took the largest face.
    rule = "nearest the centre" if protocol.get("face_rule") == "centre" else "largest"
    lines += ["### Photos", "", *_images(systems, rule)]
    if data.get("mode") == "dataset":
        lines += ["### Open-set identification (1:N)", ""]
        lines += [
            f"Gallery sizes N = {', '.join(number(s) for s in sizes) or 'none'}; "
            f"{number(protocol.get('draws'))} draws each (seed {number(protocol.get('seed'))}), "
            f"{number(protocol.get('photos_per_person', 1))} photo(s) enrolled per person, mated cap "
            f"{number(protocol.get('mated_cap')) if protocol.get('mated_cap') else 'none'}. " + PROTOCOL_TEXT,
            "",
        ]
        if sizes:
            lines += ["#### FNIR at fixed FPIR", ""]
            lines += _fnir_at_fpir(systems, as_list(protocol.get("fpir_targets")))
            lines += ["#### At the default operating point", ""]
            lines += _at_default(systems)
            lines += [
                "FPIR / target is the calibration's error. The oracle is the same searches at the one "
                "threshold that gives exactly the target FPIR here: what these embeddings allow. "
                "FNIR - oracle is what the calibration's error costs in missed people (negative: the "
                "point names more strangers than asked and misses fewer).",
                "",
            ]
    lines += ["### Verification (1:1)", ""]
    pairs = "the listed pairs" if data.get("mode") == "pairs" else "every pair of photos in the dataset"
    lines += [
        f"Over {pairs}; a pair with a photo that gave no face counts as rejected. TAR at a fixed FAR uses "
        "the threshold that gives that FAR on this run's impostor pairs. Pairs share photos, so the "
        "intervals are narrower than the data warrant.",
        "",
    ]
    lines += _verification(systems, as_list(protocol.get("far_targets")))
    lines += kfold_section(systems)
    plots = _plots(systems)
    if plots:
        lines += ["### Plots", "", "Default operating points are marked on every curve.", "", *plots]
    notes = as_list(data.get("notes"))
    if notes:
        lines += ["Notes:", "", *[f"- {note}" for note in notes], ""]
    return lines
