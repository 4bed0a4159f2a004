"""Plots are real PNG files; eval.json links to them; importing the package does not load matplotlib."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

from frs.evaluation.artifacts import save_evaluation
from frs.evaluation.metrics import roc_curve
from frs.evaluation.plots import plot_roc, plot_score_histogram
from frs.evaluation.runner import verify

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_roc_and_histogram_are_pngs(tmp_path):
    rng = np.random.default_rng(0)
    genuine = rng.normal(0.6, 0.1, 300)
    impostor = rng.normal(0.1, 0.1, 3000)
    roc_path = plot_roc(roc_curve(genuine, impostor), tmp_path / "out" / "roc.png", operating_threshold=0.35)
    hist_path = plot_score_histogram(genuine, impostor, 0.35, tmp_path / "hist.png")
    for path in (roc_path, hist_path):
        assert path.stat().st_size > 1000
        assert _png_size(path) == (600, 450)


def test_histogram_copes_with_identical_scores(tmp_path):
    path = plot_score_histogram([0.5, 0.5], [0.5], 0.5, tmp_path / "flat.png")
    assert _png_size(path) == (600, 450)


def test_save_evaluation_writes_json_and_linked_plots(tmp_path):
    from frs.evaluation.runner import EvalResult, ImageIssues

    result = EvalResult(
        mode="pairs",
        source="pairs.csv",
        threshold=0.4,
        parameters={},
        pack=None,
        counts={"pairs": 5},
        identification=None,
        verification=verify([0.9, 0.7, 0.3], [0.1, 0.5], 0.4, balanced=False),
        issues=ImageIssues(),
    )
    written = save_evaluation(result, tmp_path / "eval")
    assert set(written) == {"roc", "scores", "json"}
    data = json.loads(written["json"].read_text())
    assert data["plots"] == {"roc": "roc.png", "scores": "scores.png"}
    for name in data["plots"].values():
        assert (tmp_path / "eval" / name).read_bytes()[:8] == PNG_SIGNATURE


def test_save_evaluation_without_verification_writes_only_json(tmp_path):
    from frs.evaluation.runner import EvalResult, ImageIssues

    result = EvalResult(
        mode="dataset",
        source="x",
        threshold=0.4,
        parameters={},
        pack=None,
        counts={},
        identification=None,
        verification=None,
        issues=ImageIssues(),
        notes=("verification skipped",),
    )
    written = save_evaluation(result, tmp_path)
    assert set(written) == {"json"}
    assert json.loads(written["json"].read_text())["plots"] == {}
    assert not (tmp_path / "roc.png").exists()


def test_importing_evaluation_does_not_load_matplotlib():
    code = (
        "import sys, frs.evaluation.plots, frs.evaluation.runner, frs.evaluation.report;"
        "import frs.evaluation.artifacts; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
