"""The second look for a face that fills the frame: ID and badge crops, camera face thumbnails, 112x112
aligned crops.

Detectors are trained on faces with context around them and at a limited range of scales: a face cut at brow
and chin, letterboxed up to a 640-pixel input, is both too large for the biggest anchors and missing the
outline they learned. Measured on 150 lfw-dev faces per crop kind (an exploration for issue 20, not shipped):
YuNet found 29 of 150 brow-to-chin crops on the plain pass, SCRFD 1; the old second look (a black border of a
quarter of the side, then letterboxed to 640) rescued SCRFD on only 13. What matters is the scale: shrunk so
its long side is 25-50% of a 320-pixel canvas, centred on mid-grey, every crop kind was found by both
detectors (150 of 150; 70% of the canvas already loses SCRFD). The border colour made no difference.

It runs when the first pass found nothing, and when the one face it found covers at least half the frame
(:func:`fills_frame`): YuNet finds many such crops on its first pass, but with scores of 0.74-0.80 on
average (60 lfw-dev faces per kind), under the 0.85 of the default enrolment filter, where the second look
scores the same faces 0.92-0.93 and aligns them as well or better (similarity to the uncut photo's face: brow
to chin 0.675 -> 0.718, face box 0.763 -> 0.774). :func:`closer_look` keeps whichever look scores the face
higher. It runs on a 320x320 canvas: a photo without a face pays about a quarter of one 640 pass more, an
ordinary photo (one face well inside the frame, or several) pays nothing.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.packs.manifest import DetectorSpec
from frs.pipeline.detectors import Detection, Detector, load_detector
from frs.pipeline.detectors.base import iou

#: The side of the square canvas the second look runs on (for a detector whose graph takes any size).
CANVAS = 320
#: The image's long side on that canvas, as a fraction of the canvas side.
FACE_FRACTION = 0.5
#: The canvas around the image: mid-grey, no edge of its own for the detector to mistake for a face outline.
FILL = 128
#: A lone face whose box covers at least this share of the frame is looked at again (lfw-dev faces cover
#: about a fifth; face-box crops with a 10% margin 0.53 or more, badge crops 0.69 or more).
FILLS_FRAME = 0.5
#: The second look's face must overlap the first pass's this much to be the same face.
SAME_FACE_IOU = 0.5


class FrameFillingLook:
    """``detect`` finds the face of a frame-filling photo by shrinking it onto a larger grey canvas; boxes and
    landmarks come back in the photo's pixels (a box may reach past the photo's edges: the face does)."""

    def __init__(self, detector: Detector, canvas: tuple[int, int]) -> None:
        self.detector = detector
        self.canvas = canvas

    def detect(self, rgb: npt.NDArray[np.uint8], threshold: float) -> list[Detection]:
        height, width = rgb.shape[:2]
        canvas_w, canvas_h = self.canvas
        scale = FACE_FRACTION * min(canvas_w, canvas_h) / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        small = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
        canvas = np.full((canvas_h, canvas_w, 3), FILL, dtype=np.uint8)
        x0, y0 = (canvas_w - new_w) // 2, (canvas_h - new_h) // 2
        canvas[y0 : y0 + new_h, x0 : x0 + new_w] = small
        # Per axis: the rounding of the resized sides makes the two scales differ by a fraction of a pixel.
        factor = np.array([new_w / width, new_h / height], dtype=np.float32)
        offset = np.array([x0, y0], dtype=np.float32)
        found = []
        for d in self.detector.detect(canvas, threshold):
            points = (d.landmarks - offset) / factor
            corners = (d.bbox.reshape(2, 2) - offset) / factor
            found.append(Detection(bbox=corners.reshape(4), score=d.score, landmarks=points))
        return found


def fills_frame(detections: list[Detection], shape: tuple[int, ...]) -> bool:
    """Whether the first pass found one face, and its box covers :data:`FILLS_FRAME` of the frame."""
    if len(detections) != 1:
        return False
    x1, y1, x2, y2 = (float(v) for v in detections[0].bbox)
    return (x2 - x1) * (y2 - y1) >= FILLS_FRAME * shape[0] * shape[1]


def closer_look(first: list[Detection], closer: list[Detection]) -> list[Detection]:
    """The first pass's faces, unless the second look found the same lone face with a higher score (then its
    box, score and landmarks); the second look's when the first found nothing."""
    if not first:
        return closer
    if len(first) != 1 or not closer:
        return first
    same = max(closer, key=lambda d: iou(d.bbox, first[0].bbox))
    if iou(same.bbox, first[0].bbox) >= SAME_FACE_IOU and same.score > first[0].score:
        return [same]
    return first


def load_frame_filling_look(
    spec: DetectorSpec, session: ort.InferenceSession, *, manifest: Path
) -> FrameFillingLook:
    """The second look on the detector's own session: at :data:`CANVAS` when its graph takes any size, else at
    the graph's fixed size (the canvas is then that size, so the detector does not rescale it)."""
    detector = load_detector(spec, session, (CANVAS, CANVAS), manifest=manifest)
    fixed = getattr(detector, "canvas", None)
    return FrameFillingLook(detector, fixed if fixed is not None else (CANVAS, CANVAS))
