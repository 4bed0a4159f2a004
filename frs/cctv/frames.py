"""One camera frame -> every face: box, detection score, quality, identity or null, similarity, reason.

The decision is ``FaceService.identify``'s, on the camera's gallery, so the service's operating point (the
target FPIR for that gallery's size, or a configured threshold) and its quality filter apply unchanged.
Faces smaller than the camera's ``min_face`` are dropped (counted in the result).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frs.cctv.answers import FaceAnswer, read_identify_answer
from frs.cctv.cameras import CameraConfig
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


def identify_frame(service: FaceService, camera: CameraConfig, data: bytes) -> FrameFaces:
    """Every face of the frame ``data`` on ``camera``'s gallery (FRSError for an unusable image)."""
    # No detection fallback: most frames hold nobody, and a faint false face would raise a face.unknown alert.
    answer = read_identify_answer(service.identify(camera.gallery, data, top_k=TOP_K, fallback=False))
    kept = [face for face in answer.faces if face.shorter_side >= camera.min_face]
    return FrameFaces(
        image=answer.image,
        threshold=answer.threshold,
        operating_point=answer.operating_point,
        faces=tuple(kept),
        too_small=len(answer.faces) - len(kept),
    )
