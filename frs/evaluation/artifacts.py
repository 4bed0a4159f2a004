"""Write an evaluation's files: ``eval.json`` plus the plots it links to, all in one folder."""

from __future__ import annotations

import json
from pathlib import Path

from frs.evaluation.plots import ROC_PNG, SCORES_PNG, plot_roc, plot_score_histogram
from frs.evaluation.runner import EvalResult

EVAL_JSON = "eval.json"


def save_evaluation(result: EvalResult, out_dir: Path) -> dict[str, Path]:
    """Write ``eval.json`` and (when verification ran) ``roc.png`` and ``scores.png`` into ``out_dir``.

    The JSON's ``plots`` maps plot names to file names relative to ``out_dir``, which is where
    ``render_report`` expects report.md to live. Returns every written path by name.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    verification = result.verification
    if verification is not None:
        written["roc"] = plot_roc(verification.roc, out_dir / ROC_PNG, operating_threshold=result.threshold)
        written["scores"] = plot_score_histogram(
            verification.genuine, verification.impostor, result.threshold, out_dir / SCORES_PNG
        )
    data = result.to_dict()
    data["plots"] = {name: path.name for name, path in written.items()}
    json_path = out_dir / EVAL_JSON
    json_path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written["json"] = json_path
    return written
