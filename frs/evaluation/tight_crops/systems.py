"""An FRS pack as a system of the tight-crop suite: each crop sent as a PNG through the whole analysis, as a
user's upload would be."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from frs.evaluation.tight_crops.crops import Image
from frs.evaluation.tight_crops.suite import CropSystem, FoundFace
from frs.pipeline.analyzer import FaceAnalyzer
from frs.pipeline.quality import FilterLevel


def png(rgb: Image) -> bytes:
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return bytes(buffer.tobytes())


def frs_system(name: str, analyzer: FaceAnalyzer, level: FilterLevel) -> CropSystem:
    """``analyzer`` as a suite system: faces largest first, enrolable under the filter ``level``, the same
    person at the pack's match threshold."""

    def find(rgb: Image) -> Sequence[FoundFace]:
        faces = sorted(analyzer.analyze(png(rgb)).faces, key=lambda face: -face.area)
        return [
            FoundFace(face.embedding, not analyzer.quality_refusals(face, level))
            for face in faces
            if face.embedding is not None
        ]

    threshold = analyzer.match_threshold
    return CropSystem(name, find, lambda a, b: bool(float(a @ b) >= threshold))
