"""SCRFD (InsightFace) with 5 keypoints: 9 outputs, scores / box distances / keypoint offsets per stride.

The image is letterboxed into the network input (aspect kept, padded bottom/right); each stride (8, 16, 32)
yields values for ``anchors`` anchors per grid cell, decoded relative to the anchor centres, then filtered by
score and non-maximum suppression.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.errors import FRSError
from frs.packs.manifest import DetectorSpec
from frs.pipeline.detectors.base import Detection, FloatArray, OnnxDetector, fit_on_canvas, nms
from frs.pipeline.preprocess import to_nchw


class ScrfdDetector(OnnxDetector):
    strides = (8, 16, 32)

    def __init__(
        self, session: ort.InferenceSession, spec: DetectorSpec, input_size: tuple[int, int]
    ) -> None:
        super().__init__(session, spec, input_size)
        outputs = session.get_outputs()
        if len(outputs) != 9:
            raise FRSError(
                "model_unavailable",
                f"detector kind 'scrfd' expects a model with 9 outputs (with keypoints), got {len(outputs)}",
            )
        self.output_names = [o.name for o in outputs]
        self._anchor_cache: dict[tuple[int, int, int], FloatArray] = {}

    def _anchor_centres(self, height: int, width: int, stride: int, anchors: int) -> FloatArray:
        key = (height, width, stride)
        if key not in self._anchor_cache:
            ys, xs = np.mgrid[:height, :width]
            centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
            self._anchor_cache[key] = np.repeat(centres, anchors, axis=0)
        return self._anchor_cache[key]

    def detect(self, rgb: npt.NDArray[np.uint8], score_threshold: float) -> list[Detection]:
        # Letterboxed into the full input size, as SCRFD was trained and as insightface runs it.
        canvas, factor = fit_on_canvas(
            rgb, self.input_size, self.input_size, max_upscale=self.spec.max_upscale
        )
        raw = self.session.run(self.output_names, {self.input_name: to_nchw(canvas[None], self.spec)})
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
