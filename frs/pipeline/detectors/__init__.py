"""Face detectors behind one router: the pack manifest's detector ``kind`` picks the class that decodes it.

Each class does one job, ``detect(rgb, score_threshold) -> list[Detection]``; add a kind by writing a class
with that method and naming it in ``DETECTOR_KINDS``.
"""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from frs.errors import FRSError
from frs.packs.manifest import DetectorSpec
from frs.pipeline.detectors.base import Detection, Detector, nms
from frs.pipeline.detectors.scrfd import ScrfdDetector
from frs.pipeline.detectors.yunet import YunetDetector

__all__ = [
    "DETECTOR_KINDS",
    "Detection",
    "Detector",
    "ScrfdDetector",
    "YunetDetector",
    "load_detector",
    "nms",
]

DETECTOR_KINDS: dict[str, type[ScrfdDetector] | type[YunetDetector]] = {
    "scrfd": ScrfdDetector,
    "yunet": YunetDetector,
}


def load_detector(
    spec: DetectorSpec, session: ort.InferenceSession, input_size: tuple[int, int], *, manifest: Path
) -> Detector:
    """The detector class for ``spec.kind`` on ``session``; an unknown kind or a model of the wrong shape is a
    ``model_unavailable`` error naming the manifest, so an operator knows which file to fix."""
    cls = DETECTOR_KINDS.get(spec.kind)
    if cls is None:
        raise FRSError(
            "model_unavailable",
            f"pack manifest {manifest}: unknown detector kind {spec.kind!r}; "
            f"known: {', '.join(DETECTOR_KINDS)}",
        )
    try:
        return cls(session, spec, input_size)
    except FRSError as exc:
        raise FRSError("model_unavailable", f"pack manifest {manifest}: {exc.message}") from exc
