"""Landmark refinement: a second look of the detector at one face, cropped and scaled to the size at which
its landmarks are most precise, optionally with a mirrored copy beside it whose landmarks, mirrored back
with left and right swapped, are averaged in (a detector's left/right asymmetries cancel, its noise halves).

The pack manifest declares it (``detector.refine``: crop ``size``, ``context`` = crop side / face box side,
``mirror``); FRS never guesses it. Only the landmarks change: the box and score stay the first pass's, so
detection thresholds and quality keep their meaning. A face the second look does not find again keeps its
first landmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.errors import FRSError
from frs.packs.manifest import DetectorSpec, RefineSpec
from frs.pipeline.detectors import load_detector
from frs.pipeline.detectors.base import Detection, Detector, FloatArray, iou

#: Landmark order after a horizontal flip: left and right eyes swap, and so do the mouth corners.
MIRRORED = (1, 0, 2, 4, 3)
#: A refined detection must overlap the first pass's box this much to be the same face.
MIN_IOU = 0.5
#: Score floor of the second look: the face was already accepted by the first pass at its threshold.
REFINE_THRESHOLD = 0.3


class LandmarkRefiner:
    """Runs ``detector`` (built for a ``(2 * size, size)`` input when mirroring, else ``(size, size)``) on
    each face's crop."""

    def __init__(self, detector: Detector, spec: RefineSpec) -> None:
        self.detector = detector
        self.spec = spec

    def _crop(
        self, rgb: npt.NDArray[np.uint8], box: FloatArray
    ) -> tuple[npt.NDArray[np.uint8], float, npt.NDArray[np.float64]]:
        """The square crop around ``box`` at ``size`` pixels, its scale (crop px per image px) and the
        image point at its top-left corner."""
        size = self.spec.size
        centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)
        side = self.spec.context * float(max(box[2] - box[0], box[3] - box[1]))
        scale = size / side
        origin = centre - side / 2
        matrix = np.array([[scale, 0.0, -scale * origin[0]], [0.0, scale, -scale * origin[1]]])
        crop = cv2.warpAffine(
            rgb, matrix, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        )
        return np.asarray(crop, dtype=np.uint8), scale, origin

    def _best(self, found: Sequence[Detection], expected: FloatArray) -> Detection | None:
        scored = [(iou(d.bbox, expected), d) for d in found]
        best = max(scored, key=lambda pair: pair[0], default=None)
        return best[1] if best is not None and best[0] >= MIN_IOU else None

    def refine_one(self, rgb: npt.NDArray[np.uint8], detection: Detection) -> Detection:
        size = self.spec.size
        crop, scale, origin = self._crop(rgb, detection.bbox)
        expected = ((detection.bbox.reshape(2, 2) - origin) * scale).reshape(4).astype(np.float32)
        canvas = np.concatenate([crop, crop[:, ::-1]], axis=1) if self.spec.mirror else crop
        found = self.detector.detect(np.ascontiguousarray(canvas), REFINE_THRESHOLD)
        points = []
        direct = self._best([d for d in found if d.bbox[0] + d.bbox[2] < 2 * size], expected)
        if direct is not None:
            points.append(direct.landmarks.astype(np.float64))
        if self.spec.mirror:
            flipped = np.array([2 * size - expected[2], expected[1], 2 * size - expected[0], expected[3]])
            mirrored = self._best([d for d in found if d.bbox[0] + d.bbox[2] >= 2 * size], flipped)
            if mirrored is not None:
                back = mirrored.landmarks.astype(np.float64)[list(MIRRORED)]
                back[:, 0] = 2 * size - back[:, 0]
                points.append(back)
        if not points:
            return detection
        landmarks = np.mean(points, axis=0) / scale + origin
        return Detection(bbox=detection.bbox, score=detection.score, landmarks=landmarks.astype(np.float32))

    def refine(self, rgb: npt.NDArray[np.uint8], detections: Sequence[Detection]) -> list[Detection]:
        return [self.refine_one(rgb, d) for d in detections]


def load_refiner(
    spec: DetectorSpec, session: ort.InferenceSession, *, manifest: Path
) -> LandmarkRefiner | None:
    """The refiner ``spec.refine`` declares, on the detector's own session (None: no second look)."""
    if spec.refine is None:
        return None
    size = spec.refine.size
    canvas = (2 * size, size) if spec.refine.mirror else (size, size)
    detector = load_detector(spec, session, canvas, manifest=manifest)
    if getattr(detector, "canvas", None) is not None:  # a graph of fixed size would rescale the crop
        raise FRSError(
            "model_unavailable",
            f"pack manifest {manifest}: detector.refine needs a model with a dynamic input; "
            f"{spec.file} has a fixed one",
        )
    return LandmarkRefiner(detector, spec.refine)
