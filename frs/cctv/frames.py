"""One camera frame -> every face: box, detection score, quality, identity or null, similarity, reason.

The decision is ``FaceService.identify``'s, on the camera's gallery, so the service's threshold (and its
open-set decision and quality filter, once it makes them) apply unchanged. Faces smaller than the camera's
``min_face`` are dropped (counted in the result). While ``identify`` does not report face quality, it is
measured here with :func:`frs.pipeline.quality.assess_quality` on a second detection pass; that costs about
one more detection per frame and disappears by itself once the answer carries ``quality``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from frs.cctv.answers import FaceAnswer, read_identify_answer
from frs.cctv.cameras import CameraConfig
from frs.pipeline.analyzer import AnalyzedFace
from frs.pipeline.quality import assess_quality
from frs.service import FaceService

#: Candidates kept per face in results (the best one decides).
TOP_K = 3


@dataclass(frozen=True)
class FrameFaces:
    image: dict[str, Any] | None
    threshold: float | None
    operating_point: dict[str, Any] | None
    faces: tuple[FaceAnswer, ...]
    too_small: int  # faces below the camera's min_face, not reported


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _measured_quality(service: FaceService, data: bytes, faces: list[FaceAnswer]) -> list[FaceAnswer]:
    """``faces`` with the quality of the detection that overlaps each most (same pipeline, same boxes)."""
    analyzer = service.analyzer
    image = analyzer.decode(data)
    detections: list[AnalyzedFace] = analyzer.analyze(data, embed=False).faces
    out = []
    for face in faces:
        best = max(detections, key=lambda d: _overlap(d.bbox, face.bbox), default=None)
        if best is None or _overlap(best.bbox, face.bbox) < 0.5:
            out.append(face)
            continue
        quality = assess_quality(
            image.rgb,
            np.asarray(best.bbox, dtype=np.float64) / image.scale,
            best.landmarks / image.scale,
            best.score,
        )
        out.append(face.with_quality(quality.to_dict()))
    return out


def identify_frame(service: FaceService, camera: CameraConfig, data: bytes) -> FrameFaces:
    """Every face of the frame ``data`` on ``camera``'s gallery (FRSError for an unusable image)."""
    answer = read_identify_answer(service.identify(camera.gallery, data, top_k=TOP_K))
    kept = [face for face in answer.faces if face.shorter_side >= camera.min_face]
    if any(face.quality is None for face in kept):
        kept = _measured_quality(service, data, kept)
    return FrameFaces(
        image=answer.image,
        threshold=answer.threshold,
        operating_point=answer.operating_point,
        faces=tuple(kept),
        too_small=len(answer.faces) - len(kept),
    )
