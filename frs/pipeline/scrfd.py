"""SCRFD face detector (5 keypoints) on onnxruntime.

The image is resized to fit the network input keeping its aspect ratio and padded bottom/right; each stride
(8, 16, 32) yields scores, box distances and keypoint offsets for ``anchors`` anchors per grid cell, decoded
relative to the anchor centres, then filtered by score and non-maximum suppression.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.packs.manifest import DetectorSpec

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Detection:
    bbox: FloatArray  # x1, y1, x2, y2 in working-image pixels
    score: float
    landmarks: FloatArray  # 5x2: left eye, right eye, nose, left mouth corner, right mouth corner


def nms(boxes: FloatArray, scores: FloatArray, iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best first."""
    order = np.argsort(-scores)
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


class ScrfdDetector:
    """Runs one SCRFD ONNX model; ``detect`` takes an RGB uint8 image."""

    strides = (8, 16, 32)

    def __init__(
        self, session: ort.InferenceSession, spec: DetectorSpec, input_size: tuple[int, int]
    ) -> None:
        self.session = session
        self.spec = spec
        self.input_name = session.get_inputs()[0].name
        fixed = session.get_inputs()[0].shape[2:4]
        # A model exported with a fixed input size can only run at that size.
        if all(isinstance(d, int) for d in fixed):
            input_size = (int(fixed[1]), int(fixed[0]))
        self.input_size = input_size  # (width, height)
        outputs = session.get_outputs()
        if len(outputs) != 9:
            raise ValueError(f"expected an SCRFD model with 9 outputs (with keypoints), got {len(outputs)}")
        self.output_names = [o.name for o in outputs]
        self._anchor_cache: dict[tuple[int, int, int], FloatArray] = {}

    def _anchor_centres(self, height: int, width: int, stride: int, anchors: int) -> FloatArray:
        key = (height, width, stride)
        if key not in self._anchor_cache:
            ys, xs = np.mgrid[:height, :width]
            centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
            self._anchor_cache[key] = np.repeat(centres, anchors, axis=0)
        return self._anchor_cache[key]

    def _blob(self, rgb: npt.NDArray[np.uint8]) -> tuple[FloatArray, float]:
        in_w, in_h = self.input_size
        height, width = rgb.shape[:2]
        factor = min(in_w / width, in_h / height)
        new_w, new_h = max(1, round(width * factor)), max(1, round(height * factor))
        canvas = np.zeros((in_h, in_w, 3), dtype=np.uint8)
        # INTER_AREA when shrinking a lot: bilinear would alias away small faces.
        interpolation = cv2.INTER_AREA if factor < 0.5 else cv2.INTER_LINEAR
        canvas[:new_h, :new_w] = cv2.resize(rgb, (new_w, new_h), interpolation=interpolation)
        pixels = canvas if self.spec.color == "RGB" else canvas[:, :, ::-1]
        mean = np.asarray(self.spec.mean, dtype=np.float32)
        std = np.asarray(self.spec.std, dtype=np.float32)
        blob = ((pixels.astype(np.float32) - mean) / std).transpose(2, 0, 1)[None]
        return np.ascontiguousarray(blob), factor

    def detect(self, rgb: npt.NDArray[np.uint8], score_threshold: float) -> list[Detection]:
        blob, factor = self._blob(rgb)
        raw = self.session.run(self.output_names, {self.input_name: blob})
        in_w, in_h = self.input_size
        boxes, scores, points = [], [], []
        for level, stride in enumerate(self.strides):
            score = np.asarray(raw[level]).reshape(-1)
            distances = np.asarray(raw[level + 3]).reshape(-1, 4) * stride
            offsets = np.asarray(raw[level + 6]).reshape(-1, 10) * stride
            grid_h, grid_w = in_h // stride, in_w // stride
            anchors = score.shape[0] // (grid_h * grid_w)
            centres = self._anchor_centres(grid_h, grid_w, stride, anchors)
            hit = np.nonzero(score >= score_threshold)[0]
            if hit.size == 0:
                continue
            c = centres[hit]
            boxes.append(np.concatenate([c - distances[hit, :2], c + distances[hit, 2:]], axis=1))
            points.append(np.tile(c, 5) + offsets[hit])
            scores.append(score[hit])
        if not scores:
            return []
        all_boxes = np.concatenate(boxes).astype(np.float32) / factor
        all_scores = np.concatenate(scores).astype(np.float32)
        all_points = (np.concatenate(points).astype(np.float32) / factor).reshape(-1, 5, 2)
        keep = nms(all_boxes, all_scores, self.spec.nms_threshold)
        return [Detection(all_boxes[i], float(all_scores[i]), all_points[i]) for i in keep]
