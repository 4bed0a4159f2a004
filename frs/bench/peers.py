"""The peers ``frs bench`` measures FRS against, in the same process and run, starting from the same bytes:

* insightface ``FaceAnalysis`` (detection + recognition) loaded with an SCRFD pack's two model files: the
  benched pack's own when its detector is SCRFD, else the ``embedded`` pack's (SCRFD-2.5G + SFace), the
  reference an InsightFace-style pipeline offers offline;
* ``face_recognition`` (dlib: HOG detector, 5-point landmarks, ResNet descriptor), the common library default,
  loaded by :mod:`frs.evaluation.face_recognition_peer` (which ``frs eval --peer`` uses too);
* for detection alone, the SCRFD-2.5G detector of the ``embedded`` pack run by FRS's own SCRFD class.

Each comparison is timed in turns (:func:`frs.bench.stats.time_interleaved`) and reported as p50 ratios.
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from frs.bench.stats import ratio, time_interleaved
from frs.config import Settings
from frs.evaluation.face_recognition_peer import PIPELINE, import_face_recognition, load_rgb
from frs.packs.manifest import PackManifest, load_manifest, weight_path
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer

REFERENCE_PACK = "embedded"  # SCRFD-2.5G + SFace: what FaceAnalysis and the detector ratio run when needed


def _reference_manifest(settings: Settings) -> PackManifest:
    manifest = load_manifest(settings.pack, settings.models_dir)
    if manifest.detector.kind == "scrfd":
        return manifest
    return load_manifest(REFERENCE_PACK, settings.models_dir)


@contextmanager
def faceanalysis(settings: Settings, manifest: PackManifest, det_threshold: float) -> Iterator[Any]:
    """A prepared ``FaceAnalysis`` on ``manifest``'s two files (symlinked into a folder it loads as is)."""
    from insightface.app import FaceAnalysis

    warnings.filterwarnings("ignore", category=FutureWarning, module="insightface")
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "models" / "frs"
        folder.mkdir(parents=True)
        for spec in (manifest.detector, manifest.recognizer):
            (folder / spec.file).symlink_to(weight_path(manifest, spec, settings.models_dir))
        app = FaceAnalysis(
            name=str(folder),  # a directory path: insightface loads it as is, never downloads
            allowed_modules=["detection", "recognition"],
            providers=["CPUExecutionProvider"],
        )
        app.prepare(ctx_id=-1, det_size=manifest.detector.input_size, det_thresh=det_threshold)
        yield app


def _decode_bgr(data: bytes) -> Any:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def detect_embed_peers(photos: dict[str, bytes], runs: int, settings: Settings) -> dict[str, Any]:
    """Per photo: FRS (the benched pack) vs FaceAnalysis vs face_recognition, detect + embed every face.

    ``{"contenders": {name: what it runs}, "photos": {photo: {name: timing, "faces": {name: count},
    "ratio_vs_faceanalysis": FRS p50 / FaceAnalysis p50, "ratio_vs_face_recognition": ...}}}``."""
    analyzer = load_analyzer(settings)
    reference = _reference_manifest(settings)
    fr = import_face_recognition()

    def face_recognition_call(data: bytes) -> list[Any]:
        rgb = load_rgb(data)
        return list(fr.face_encodings(rgb, fr.face_locations(rgb)))

    contenders = {
        "frs": f"FRS, pack {settings.pack}: analyze (decode, detect, align, embed)",
        "faceanalysis": "insightface FaceAnalysis on "
        f"{reference.detector.file} + {reference.recognizer.file}",
        "face_recognition": f"face_recognition: {PIPELINE}",
    }
    results: dict[str, Any] = {}
    threshold = _reference_threshold(settings, reference)
    with faceanalysis(settings, reference, threshold) as app:
        for label, data in photos.items():
            calls: dict[str, Callable[[], object]] = {
                "frs": functools.partial(analyzer.analyze, data),
                "faceanalysis": lambda d=data: app.get(_decode_bgr(d)),  # type: ignore[misc]
                "face_recognition": functools.partial(face_recognition_call, data),
            }
            # The calls that count the faces are the first warm-up (face_recognition takes seconds on Solvay).
            faces = {
                "frs": len(analyzer.analyze(data).faces),
                "faceanalysis": len(app.get(_decode_bgr(data))),
                "face_recognition": len(face_recognition_call(data)),
            }
            timings = time_interleaved(calls, runs, warmup=1)
            results[label] = {
                **timings,
                "faces": faces,
                "ratio_vs_faceanalysis": ratio(timings["frs"], timings["faceanalysis"]),
                "ratio_vs_face_recognition": ratio(timings["frs"], timings["face_recognition"]),
            }
    return {"contenders": contenders, "photos": results}


def _reference_threshold(settings: Settings, reference: PackManifest) -> float:
    configured = settings.det_threshold
    return configured if configured is not None else reference.detector.score_threshold


def detector_peer(photos: dict[str, bytes], runs: int, settings: Settings) -> dict[str, Any]:
    """Detection alone on the decoded photo: the benched pack's detector vs SCRFD-2.5G; the speed-up is
    SCRFD's p50 over ours. Shaped like :func:`detect_embed_peers`."""
    analyzer = load_analyzer(settings)
    scrfd = _scrfd_reference(settings)
    contenders = {
        "frs": f"FRS, pack {settings.pack}: {analyzer.manifest.detector.file}",
        "scrfd_2.5g": f"SCRFD-2.5G ({REFERENCE_PACK} pack) run by FRS's SCRFD class",
    }
    results: dict[str, Any] = {}
    for label, data in photos.items():
        rgb = analyzer.decode(data).rgb
        calls: dict[str, Callable[[], object]] = {
            "frs": functools.partial(analyzer.detector.detect, rgb, analyzer.det_threshold),
            "scrfd_2.5g": functools.partial(scrfd.detector.detect, rgb, scrfd.det_threshold),
        }
        timings = time_interleaved(calls, runs)
        results[label] = {
            **timings,
            "faces": {
                "frs": len(analyzer.detector.detect(rgb, analyzer.det_threshold)),
                "scrfd_2.5g": len(scrfd.detector.detect(rgb, scrfd.det_threshold)),
            },
            "speedup_vs_scrfd_2.5g": ratio(timings["scrfd_2.5g"], timings["frs"]),
        }
    return {"contenders": contenders, "photos": results}


def _scrfd_reference(settings: Settings) -> FaceAnalyzer:
    return load_analyzer(dataclasses.replace(settings, pack=REFERENCE_PACK))
