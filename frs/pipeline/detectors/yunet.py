"""YuNet (OpenCV Zoo, 2023mar): an anchor-free detector with 12 outputs, cls/obj/bbox/kps at strides 8/16/32.

Per grid cell (row-major) the network gives a class and an objectness probability, a box as a centre offset
in cells plus log width/height in strides, and five landmarks as offsets in cells. The face score is
sqrt(cls * obj), both clamped to [0, 1]; this is the decoding ``cv2.FaceDetectorYN`` applies, and a test
checks that both agree on real photos.

The image is scaled to fit the manifest's input size keeping its aspect ratio, then padded bottom/right to the
network's fixed input, or, when the graph's input is dynamic (``frs models fetch`` makes it so), only up to a
multiple of the largest stride: no work is spent on padding a non-square photo into a square.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.errors import FRSError
from frs.packs.manifest import DetectorSpec
from frs.pipeline.detectors.base import Detection, FloatArray, OnnxDetector, fit_on_canvas, nms
from frs.pipeline.preprocess import to_nchw

STRIDES = (8, 16, 32)
HEADS = ("cls", "obj", "bbox", "kps")


class YunetDetector(OnnxDetector):
    def __init__(
        self, session: ort.InferenceSession, spec: DetectorSpec, input_size: tuple[int, int]
    ) -> None:
        super().__init__(session, spec, input_size)
        names = {o.name for o in session.get_outputs()}
        self.output_names = [f"{head}_{stride}" for head in HEADS for stride in STRIDES]
        missing = [n for n in self.output_names if n not in names]
        if missing:
            raise FRSError(
                "model_unavailable",
                f"detector kind 'yunet' expects outputs {', '.join(self.output_names)}; "
                f"the model lacks {', '.join(missing)}",
            )
        self._grids: dict[tuple[int, int], FloatArray] = {}

    def _grid(self, rows: int, cols: int) -> FloatArray:
        """(col, row) of every cell, row-major: the order the network lists its predictions in."""
        if (rows, cols) not in self._grids:
            ys, xs = np.mgrid[:rows, :cols]
            self._grids[(rows, cols)] = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
        return self._grids[(rows, cols)]

    def detect(self, rgb: npt.NDArray[np.uint8], score_threshold: float) -> list[Detection]:
        canvas, factor = fit_on_canvas(
            rgb, self.input_size, self.canvas, multiple=STRIDES[-1], max_upscale=self.spec.max_upscale
        )
        raw = self.session.run(self.output_names, {self.input_name: to_nchw(canvas[None], self.spec)})
        out = dict(zip(self.output_names, raw, strict=True))
        height, width = canvas.shape[:2]
        boxes, scores, points = [], [], []
        for stride in STRIDES:
            cls = np.clip(np.asarray(out[f"cls_{stride}"]).reshape(-1), 0.0, 1.0)
            obj = np.clip(np.asarray(out[f"obj_{stride}"]).reshape(-1), 0.0, 1.0)
            score = np.sqrt(cls * obj)
            cells = self._grid(height // stride, width // stride)
            if len(cells) != len(score):
                raise FRSError(
                    "model_unavailable", f"yunet stride {stride}: {len(score)} cells, expected {len(cells)}"
                )
            hit = np.nonzero(score >= score_threshold)[0]
            if hit.size == 0:
                continue
            cell = cells[hit]
            box = np.asarray(out[f"bbox_{stride}"]).reshape(-1, 4)[hit]
            centre = (cell + box[:, :2]) * stride
            half = np.exp(box[:, 2:]) * stride / 2
            boxes.append(np.concatenate([centre - half, centre + half], axis=1))
            kps = np.asarray(out[f"kps_{stride}"]).reshape(-1, 5, 2)[hit]
            points.append((kps + cell[:, None, :]) * stride)
            scores.append(score[hit])
        if not scores:
            return []
        all_boxes = np.concatenate(boxes).astype(np.float32) / np.float32(factor)
        all_scores = np.concatenate(scores).astype(np.float32)
        all_points = np.concatenate(points).astype(np.float32) / np.float32(factor)
        keep = nms(all_boxes, all_scores, self.spec.nms_threshold)
        return [Detection(all_boxes[i], float(all_scores[i]), all_points[i]) for i in keep]
