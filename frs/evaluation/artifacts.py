"""Write an evaluation's files: ``eval.json`` plus the plots it links to, all in one folder.

Per system (``frs`` and any peer): ``det-<system>.png`` (open-set DET, one curve per gallery size),
``roc-<system>.png`` (verification ROC) and ``scores-<system>.png`` (score histograms). Each system's
``plots`` in eval.json maps those names to file names relative to the JSON's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from frs.evaluation.plots import DetCurve, plot_det, plot_roc, plot_score_histogram
from frs.evaluation.runner import EvalResult, SystemResult

EVAL_JSON = "eval.json"


def _plots(
    system: SystemResult, out_dir: Path, fpir_targets: list[float], far_targets: list[float]
) -> dict[str, Path]:
    written: dict[str, Path] = {}
    name, label = system.system.name, system.system.label
    curves = [
        DetCurve(
            gallery_size=size.gallery_size,
            roc=size.scores.det(),
            point_fpir=size.at_point.fpir.value or 0.0,
            point_fnir=size.at_point.fnir.value or 0.0,
            point_threshold=size.point.threshold,
        )
        for size in system.identification or ()
        if size.has_curve
    ]
    if curves:
        written["det"] = plot_det(
            curves,
            out_dir / f"det-{name}.png",
            title=f"Open-set identification: {label}",
            fpir_targets=fpir_targets,
        )
    verification = system.verification
    if verification is not None:
        point = verification.point
        written["roc"] = plot_roc(
            verification.roc,
            out_dir / f"roc-{name}.png",
            operating_threshold=point.threshold,
            operating_label=f"threshold {point.threshold:.3f} ({point.source.replace('_', ' ')})",
            far_targets=far_targets,
            title=f"Verification ROC: {label}",
        )
        written["scores"] = plot_score_histogram(
            verification.genuine,
            verification.impostor,
            point.threshold,
            out_dir / f"scores-{name}.png",
            title=f"Genuine and impostor pairs: {label}",
        )
    return written


def save_evaluation(result: EvalResult, out_dir: Path) -> dict[str, Path]:
    """Write ``eval.json`` and the plots into ``out_dir``; returns every written path by name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = result.to_dict()
    written: dict[str, Path] = {}
    fpir_targets = list(data["protocol"].get("fpir_targets", []))
    far_targets = list(data["protocol"].get("far_targets", []))
    for system, entry in zip(result.systems, data["systems"], strict=True):
        plots = _plots(system, out_dir, fpir_targets, far_targets)
        entry["plots"] = {kind: path.name for kind, path in plots.items()}
        written.update({f"{kind}-{system.system.name}": path for kind, path in plots.items()})
    json_path = out_dir / EVAL_JSON
    json_path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written["json"] = json_path
    return written
