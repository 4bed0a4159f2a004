"""PNG plots of an evaluation: the open-set DET curves, the verification ROC and the score histograms.

matplotlib is imported inside the functions (and only its Agg canvas, never pyplot) so importing ``frs`` stays
cheap and no display backend is ever touched. Log axes cannot show a rate of 0: such points are drawn on a
floor line at half the smallest rate the sample can show (``0.5 / n``), labelled as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.evaluation.metrics import RocCurve

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="tight")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def _floored(values: npt.NDArray[np.float64], floor: float) -> npt.NDArray[np.float64]:
    return np.maximum(values, floor)


@dataclass(frozen=True)
class DetCurve:
    """One gallery size's DET curve and its default operating point, as the plot needs them."""

    gallery_size: int
    roc: RocCurve  # mated vs non-mated searches (fpir = far, fnir = 1 - tar)
    point_fpir: float
    point_fnir: float
    point_threshold: float


def plot_det(
    curves: Sequence[DetCurve], path: Path, *, title: str, fpir_targets: Sequence[float] = ()
) -> Path:
    """FNIR against FPIR on log axes, one curve per gallery size, each with its default operating point."""
    figure = _figure(9.6, 4.8)
    axes = figure.add_subplot()
    x_floor = min(0.5 / c.roc.n_impostor for c in curves)
    y_floor = min(0.5 / c.roc.n_genuine for c in curves)
    for index, curve in enumerate(curves):
        colour = _COLOURS[index % len(_COLOURS)]
        thin = curve.roc.thinned(2000)
        fpir, fnir = _floored(thin.far, x_floor), _floored(1.0 - thin.tar, y_floor)
        label = (
            f"N = {curve.gallery_size}: {curve.roc.n_genuine:,} mated / {curve.roc.n_impostor:,} non-mated "
            f"searches;\n  default point (dot): threshold {curve.point_threshold:.3f}"
        )
        axes.step(fpir, fnir, where="post", color=colour, label=label)
        axes.plot(
            [max(curve.point_fpir, x_floor)],
            [max(curve.point_fnir, y_floor)],
            "o",
            color=colour,
            markeredgecolor="black",
            markersize=7,
        )
    for target in fpir_targets:
        axes.axvline(target, color="grey", linestyle=":", linewidth=1)
    axes.axhline(y_floor, color="grey", linestyle="--", linewidth=0.8)
    axes.annotate(
        "FNIR 0", (1.0, y_floor), xytext=(-4, 3), textcoords="offset points", ha="right", fontsize=7
    )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(x_floor / 1.5, 1.0)
    axes.set_ylim(y_floor / 1.5, 1.05)
    axes.set_xlabel("FPIR: non-mated searches naming someone")
    axes.set_ylabel("FNIR: mated searches not naming the person")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    return _save(figure, path)


def plot_roc(
    roc: RocCurve,
    path: Path,
    *,
    operating_threshold: float,
    operating_label: str,
    far_targets: Sequence[float] = (),
    title: str = "ROC (verification)",
) -> Path:
    """TAR against FAR on a log FAR axis, the default 1:1 operating point marked."""
    curve = roc.thinned(2000)
    floor = 0.5 / roc.n_impostor
    figure = _figure(6.4, 4.8)
    axes = figure.add_subplot()
    axes.step(_floored(curve.far, floor), curve.tar, where="post", color="tab:blue", label="ROC")
    for target in far_targets:
        if target * roc.n_impostor >= 1:
            axes.axvline(target, color="grey", linestyle=":", linewidth=1)
    # The exact operating point: last ROC point whose threshold is still >= the operating threshold.
    index = int(np.searchsorted(-roc.thresholds, -operating_threshold, side="right")) - 1
    axes.plot(
        [max(float(roc.far[index]), floor)],
        [roc.tar[index]],
        "o",
        color="tab:red",
        markeredgecolor="black",
        label=f"default: {operating_label}",
    )
    axes.set_xscale("log")
    axes.set_xlim(floor / 1.5, 1.0)
    axes.set_ylim(0.0, 1.01)
    axes.set_xlabel(f"false accept rate ({roc.n_impostor:,} impostor pairs; FAR 0 drawn at {floor:.1g})")
    axes.set_ylabel(f"true accept rate ({roc.n_genuine:,} genuine pairs)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    return _save(figure, path)


def plot_score_histogram(
    genuine: npt.ArrayLike,
    impostor: npt.ArrayLike,
    threshold: float,
    path: Path,
    *,
    title: str = "Similarity of genuine and impostor pairs",
) -> Path:
    """Normalised histograms of both score sets (their sizes differ a lot), threshold as a vertical line.
    Pairs without a score (``-inf``: an image gave no face) are left out of the histogram."""
    gen = np.asarray(genuine, dtype=np.float64).reshape(-1)
    imp = np.asarray(impostor, dtype=np.float64).reshape(-1)
    gen, imp = gen[np.isfinite(gen)], imp[np.isfinite(imp)]
    both = np.concatenate([gen, imp, [threshold]])
    bins = np.linspace(float(both.min()), float(both.max()), 61)
    if bins[0] == bins[-1]:
        bins = np.linspace(bins[0] - 0.5, bins[0] + 0.5, 61)
    figure = _figure(6.4, 4.8)
    axes = figure.add_subplot()
    if imp.size:
        axes.hist(imp, bins=bins, density=True, alpha=0.55, color="tab:red", label=f"impostor ({imp.size})")
    if gen.size:
        axes.hist(gen, bins=bins, density=True, alpha=0.55, color="tab:green", label=f"genuine ({gen.size})")
    axes.axvline(threshold, color="black", linestyle="--", label=f"default threshold {threshold:.3f}")
    axes.set_xlabel("similarity")
    axes.set_ylabel("density")
    axes.set_title(title)
    axes.legend(loc="upper left")
    return _save(figure, path)
