"""report.md rendering with full, partial and oddly shaped inputs; machine_info contents."""

from __future__ import annotations

from typing import Any

import numpy as np

from frs.evaluation.metrics import open_set_metrics
from frs.evaluation.report import machine_info, render_report
from frs.evaluation.runner import EvalResult, IdentificationResult, ImageIssues, verify
from frs.packs.info import PackInfo

MACHINE = {"cpu": "Test CPU 9000", "cores_logical": 2, "python": "3.11.9"}
COMMANDS = ["frs eval data/ --out out/", "frs bench --out out/bench.json", "frs report out/"]


def _eval_json() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    result = EvalResult(
        mode="dataset",
        source="data/",
        threshold=0.4,
        parameters={"k": 1, "unknown_share": 0.2, "seed": 0},
        pack=PackInfo("buffalo_s", 512),
        counts={"identities": 10, "images": 40},
        identification=IdentificationResult(
            n_gallery_identities=8,
            n_gallery_images=8,
            n_known_probes=24,
            n_unknown_probes=8,
            top1=0.875,
            top5=1.0,
            open_set=open_set_metrics([0.9, 0.3, 0.5], [True, True, False], [True, True, False], 0.4),
        ),
        # 150 impostors: FAR 1e-2 is measurable, 1e-3 is not.
        verification=verify(rng.normal(0.6, 0.1, 60), rng.normal(0.1, 0.1, 150), 0.4, balanced=True),
        issues=ImageIssues(no_face=[f"p/{i}.jpg" for i in range(25)], multiple_faces=["q/1.jpg"]),
        notes=("a caveat",),
    )
    data = result.to_dict()
    data["plots"] = {"roc": "roc.png", "scores": "scores.png"}
    return data


BENCH = {
    "pack": {"name": "buffalo_s", "dim": 512},
    "cold_start": {"min": 812.25, "median": 900.0, "max": 1010.5},
    "warm": {"detect": {"p50": 31.5, "p95": 40.25, "min": 30.0, "max": 44.0}},
    "throughput": {"images_per_s": 12.5, "threads": 2},
    "search": {"1000x512": 0.42, "100000x512": 18.0},
    "faceanalysis_ratio": {"detect": 0.93, "embed": 1.01},
}


def test_full_report_has_every_section():
    text = render_report(_eval_json(), BENCH, MACHINE, COMMANDS)
    assert "| cpu | Test CPU 9000 |" in text
    assert "Model pack: `buffalo_s` (embedding dim 512)" in text
    assert "| Top-1 accuracy (enrolled probes) | 87.50 % |" in text
    assert "| Top-5 accuracy (enrolled probes) | 100.00 % |" in text
    assert "| Open-set precision at 0.4 | 50.00 % |" in text  # accepted 0.9 (right) and 0.5 (unknown)
    assert "| False-accept rate (unknown probes accepted) | 100.00 % |" in text
    assert "TAR @ FAR 0.01 |" in text
    assert "| TAR @ FAR 0.001 | not measurable (too few impostor pairs) |" in text
    assert "| EER |" in text
    assert "Best balanced accuracy" in text
    assert "| No face found (left out) | 25 |" in text
    assert "and 5 more" in text  # only the first 20 names are listed
    assert "![roc](roc.png)" in text
    assert "![scores](scores.png)" in text
    assert "- a caveat" in text
    assert "| 812.2 | 900.0 | 1010.5 |" in text
    assert "| detect | 31.5 | 40.2 | 30.0 | 44.0 |" in text
    assert "| cpu | Test CPU 9000 |" in text
    assert "| 1000x512 | 0.42 |" in text
    assert "| 100000x512 | 18.0 |" in text
    assert "| images_per_s | 12.5 |" in text
    assert "| embed | 1.01 |" in text
    assert "```sh\nfrs eval data/ --out out/\nfrs bench --out out/bench.json\nfrs report out/\n```" in text
    assert "_not measured_" not in text


def test_report_without_inputs_says_not_measured():
    text = render_report(None, None, MACHINE, [])
    assert text.count("_not measured_") == 2
    assert "Model pack: unknown" in text
    assert "_commands not recorded_" in text


def test_report_with_partial_and_odd_bench_sections():
    bench = {
        "warm": {"detect": {"p50": 31.5}},  # missing percentiles
        "search": {"1000": {"512": 0.4}},  # nested instead of flat
        "throughput": 12.0,  # a bare number
        "extra_section": {"x": [1, 2]},
    }
    text = render_report(None, bench, MACHINE, COMMANDS)
    assert "### Cold start (ms)\n\n_not measured_" in text
    assert "### Compared with insightface FaceAnalysis\n\n_not measured_" in text
    assert "| detect | 31.5 | n/a | n/a | n/a |" in text
    assert "| 1000 / 512 | 0.4 |" in text
    assert "| value | 12 |" in text
    assert "### Extra section" in text
    assert "| x | 1, 2 |" in text


def test_report_of_pairs_eval_without_identification():
    data = _eval_json()
    data["mode"] = "pairs"
    data["identification"] = None
    data["plots"] = {}
    text = render_report(data, None, MACHINE, COMMANDS)
    assert "Identification" not in text
    assert "Over the listed pairs" in text
    assert "![" not in text


def test_machine_info_describes_this_machine():
    info = machine_info()
    assert isinstance(info["cpu"], str) and info["cpu"]
    assert isinstance(info["cores_logical"], int) and info["cores_logical"] >= 1
    assert info["numpy"] == np.__version__
    assert info["python"].count(".") == 2
    assert "onnxruntime" in info


def test_warm_latency_per_photo_as_frs_bench_writes_it():
    stats = {"p50": 12.5, "p95": 20.0, "min": 10.0, "max": 21.0}
    bench = {"warm": {"one.jpg": {"detect": stats, "identify": {**stats, "p50": 30.0}}}}
    text = render_report(None, bench, {}, [])
    assert "| detect · one.jpg | 12.5 | 20.0 | 10.0 | 21.0 |" in text
    assert "| identify · one.jpg | 30.0 |" in text
