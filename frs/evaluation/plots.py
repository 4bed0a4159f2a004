"""PNG plots of a verification result: the ROC curve and the genuine/impostor score histograms.

matplotlib is imported inside the functions (and only its Agg canvas, never pyplot) so importing ``frs`` stays
cheap and no display backend is ever touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.evaluation.metrics import DEFAULT_FAR_TARGETS, RocCurve

ROC_PNG = "roc.png"
SCORES_PNG = "scores.png"


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    return figure


def plot_roc(
    roc: RocCurve,
    path: Path,
    *,
    operating_threshold: float | None = None,
    far_targets: Sequence[float] = DEFAULT_FAR_TARGETS,
    title: str = "ROC (verification)",
) -> Path:
    """TAR against FAR on a log FAR axis; points with FAR = 0 cannot sit on it and are left out."""
    curve = roc.thinned(2000)
    far, tar = curve.far, curve.tar
    visible = far > 0
    figure = _figure(6, 4.5)
    axes = figure.add_subplot()
    axes.plot(far[visible], tar[visible], color="tab:blue", label="ROC")
    for target in far_targets:
        if target * roc.n_impostor >= 1:
            axes.axvline(target, color="grey", linestyle=":", linewidth=1)
    if operating_threshold is not None:
        # The exact operating point: last ROC point whose threshold is still >= the operating threshold.
        index = int(np.searchsorted(-roc.thresholds, -operating_threshold, side="right")) - 1
        if roc.far[index] > 0:
            label = f"threshold {operating_threshold:.3f}"
            axes.plot([roc.far[index]], [roc.tar[index]], "o", color="tab:red", label=label)
    axes.set_xscale("log")
    axes.set_xlim(1.0 / roc.n_impostor / 2, 1.0)
    axes.set_ylim(0.0, 1.01)
    axes.set_xlabel(f"false accept rate ({roc.n_impostor} impostor pairs)")
    axes.set_ylabel(f"true accept rate ({roc.n_genuine} genuine pairs)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def plot_score_histogram(
    genuine: npt.ArrayLike,
    impostor: npt.ArrayLike,
    threshold: float,
    path: Path,
    *,
    title: str = "Similarity of genuine and impostor pairs",
) -> Path:
    """Normalised histograms of both score sets (their sizes differ a lot), threshold as a vertical line."""
    gen = np.asarray(genuine, dtype=np.float64).reshape(-1)
    imp = np.asarray(impostor, dtype=np.float64).reshape(-1)
    both = np.concatenate([gen, imp, [threshold]])
    bins = np.linspace(float(both.min()), float(both.max()), 61)
    if bins[0] == bins[-1]:
        bins = np.linspace(bins[0] - 0.5, bins[0] + 0.5, 61)
    figure = _figure(6, 4.5)
    axes = figure.add_subplot()
    if imp.size:
        axes.hist(imp, bins=bins, density=True, alpha=0.55, color="tab:red", label=f"impostor ({imp.size})")
    if gen.size:
        axes.hist(gen, bins=bins, density=True, alpha=0.55, color="tab:green", label=f"genuine ({gen.size})")
    axes.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3f}")
    axes.set_xlabel("cosine similarity")
    axes.set_ylabel("density")
    axes.set_title(title)
    axes.legend(loc="upper left")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
