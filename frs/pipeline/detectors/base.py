"""What every face detector returns, and the preprocessing and suppression steps they share.

A detector takes an RGB uint8 image and returns :class:`Detection` objects (box, score, five landmarks) in
the pixels of the image it was given. How the network wants its input (size, mean/std, colour order) comes
from the pack manifest; only the decoding of the network's outputs differs between detector kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.packs.manifest import DetectorSpec

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Detection:
    bbox: FloatArray  # x1, y1, x2, y2 in the pixels of the image given to ``detect``
    score: float
    landmarks: FloatArray  # 5x2: left eye, right eye, nose, left mouth corner, right mouth corner


class Detector(Protocol):
    """One detector kind: ``detect`` finds faces (a face that fills the frame is the analyzer's second look,
    ``frs.pipeline.frame_filling``, for every kind)."""

    def detect(self, rgb: npt.NDArray[np.uint8], score_threshold: float) -> list[Detection]: ...


class OnnxDetector:
    """What every detector class holds: its session, its manifest entry and the size it scales images to."""

    def __init__(
        self, session: ort.InferenceSession, spec: DetectorSpec, input_size: tuple[int, int]
    ) -> None:
        self.session = session
        self.spec = spec
        model_input = session.get_inputs()[0]
        self.input_name = model_input.name
        # A model exported with a fixed input size runs only at that size; None: any size its strides divide.
        self.canvas = fixed_input_size(model_input.shape)
        self.input_size = self.canvas or input_size  # (width, height) an image is scaled to fit


def nms(boxes: FloatArray, scores: FloatArray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best first."""
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        xx1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
        iou = inter / (areas[best] + areas[rest] - inter)
        order = rest[iou <= iou_threshold]
    return keep


def iou(a: FloatArray, b: FloatArray) -> float:
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(x2 - x1)) * max(0.0, float(y2 - y1))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def fit_on_canvas(
    rgb: npt.NDArray[np.uint8],
    box: tuple[int, int],
    canvas: tuple[int, int] | None,
    multiple: int = 1,
    max_upscale: float | None = None,
) -> tuple[npt.NDArray[np.uint8], float]:
    """Resize ``rgb`` to fit ``box`` (w, h) keeping its aspect ratio and place it top-left on a black canvas.

    ``max_upscale`` caps the factor for a photo smaller than ``box`` (None: enlarged to fit).

    The canvas is ``canvas`` (w, h) for a network with a fixed input, else the resized size rounded up to
    ``multiple`` (a network with a dynamic input only needs sides its strides divide). Returns the canvas and
    the scale factor (network pixels per image pixel).
    """
    height, width = rgb.shape[:2]
    factor = min(box[0] / width, box[1] / height)
    if max_upscale is not None:
        factor = min(factor, max_upscale)
    new_w, new_h = max(1, round(width * factor)), max(1, round(height * factor))
    if canvas is None:
        canvas = (-(-new_w // multiple) * multiple, -(-new_h // multiple) * multiple)
    out = np.zeros((canvas[1], canvas[0], 3), dtype=np.uint8)
    # INTER_AREA when shrinking a lot: bilinear would alias away small faces.
    interpolation = cv2.INTER_AREA if factor < 0.5 else cv2.INTER_LINEAR
    out[:new_h, :new_w] = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
    return out, factor


def fixed_input_size(shape: list[object]) -> tuple[int, int] | None:
    """(w, h) when an NCHW input declares both spatial sides, else None (a dynamic input)."""
    height, width = shape[2], shape[3]
    if isinstance(height, int) and isinstance(width, int):
        return (width, height)
    return None
