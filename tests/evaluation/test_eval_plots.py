"""Plots are real PNG files of the expected size; importing evaluation code does not load matplotlib."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from frs.evaluation.metrics import roc_curve
from frs.evaluation.open_set import SearchScores
from frs.evaluation.plots import DetCurve, plot_det, plot_roc, plot_score_histogram

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_roc_and_histogram_are_pngs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    genuine = rng.normal(0.6, 0.1, 300)
    impostor = rng.normal(0.1, 0.1, 3000)
    roc_path = plot_roc(
        roc_curve(genuine, impostor),
        tmp_path / "out" / "roc.png",
        operating_threshold=0.35,
        operating_label="0.35",
    )
    hist_path = plot_score_histogram(genuine, impostor, 0.35, tmp_path / "hist.png")
    for path in (roc_path, hist_path):
        assert path.stat().st_size > 1000
        assert _png_size(path) == (640, 480)


def test_det_has_a_curve_per_gallery_size_and_copes_with_zero_rates(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    curves = []
    for size in (10, 50):
        mated = rng.uniform(0.0, 0.3, (40, size))
        mated[:, 0] = rng.uniform(0.5, 0.9, 40)  # every mate on top: FNIR 0 over a range of thresholds
        scores = SearchScores.of(mated, np.zeros(40, dtype=np.int64), rng.uniform(0.0, 0.6, (500, size)))
        at = scores.at(0.55)
        curves.append(DetCurve(size, scores.det(), at.fpir.value or 0.0, at.fnir.value or 0.0, 0.55))
    path = plot_det(curves, tmp_path / "det.png", title="DET", fpir_targets=(0.01, 0.001))
    assert _png_size(path) == (960, 480) and path.stat().st_size > 5000


def test_histogram_copes_with_identical_and_missing_scores(tmp_path: Path) -> None:
    path = plot_score_histogram([0.5, 0.5, -np.inf], [0.5], 0.5, tmp_path / "flat.png")
    assert _png_size(path) == (640, 480)


def test_importing_evaluation_does_not_load_matplotlib() -> None:
    code = (
        "import sys, frs.evaluation.plots, frs.evaluation.runner, frs.evaluation.report;"
        "import frs.evaluation.artifacts; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
