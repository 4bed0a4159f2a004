"""Five precise landmarks per face from a dense landmark model, for alignment.

The detector's five points are coarse (YuNet's disagree with SCRFD's by 7% of the inter-ocular distance,
nearly all of it noise: issue 20, README). MediaPipe's face mesh (468 points, Apache-2.0) looks at each face
again in a square region around its box, levelled on the detector's eyes, and its eye contours, nose tip and
mouth corners give five points that sit 3.7% IOD from SCRFD's on the same faces.

The manifest declares it (``"landmarker"``: file, ``roi_scale``, ``landmark_template``); FRS never guesses it.
Only alignment uses these points: the box, score, the reported landmarks and the quality reading stay the
detector's, so detection thresholds and pose limits keep their meaning.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from frs.packs.manifest import LandmarkerSpec
from frs.pipeline.detectors.base import Detection
from frs.pipeline.runtime import Session

# Face-mesh indices (MediaPipe's canonical topology). Image-left eye first, as in the five-point convention.
_IMAGE_LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
_IMAGE_RIGHT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
_NOSE_TIP = 1
_MOUTH_CORNERS = (61, 291)
MESH_POINTS = 468


def five_points(mesh: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Eye centres (mean of each eye's contour), nose tip and mouth corners of one face's mesh (468, 2)."""
    return np.stack(
        [
            mesh[list(_IMAGE_LEFT_EYE)].mean(axis=0),
            mesh[list(_IMAGE_RIGHT_EYE)].mean(axis=0),
            mesh[_NOSE_TIP],
            mesh[_MOUTH_CORNERS[0]],
            mesh[_MOUTH_CORNERS[1]],
        ]
    )


def region_transform(detection: Detection, side: int, roi_scale: float) -> npt.NDArray[np.float64]:
    """The 2x3 map from image pixels into the model's ``side`` x ``side`` input: centred on the box, its
    longer side times ``roi_scale`` across, rotated so the detector's eyes are level."""
    box = detection.bbox.astype(np.float64)
    centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    extent = roi_scale * max(box[2] - box[0], box[3] - box[1], 1.0)
    eye_line = detection.landmarks[1].astype(np.float64) - detection.landmarks[0].astype(np.float64)
    angle = float(np.arctan2(eye_line[1], eye_line[0]))
    scale = side / extent
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    linear = np.array([[cos, sin], [-sin, cos]])
    return np.hstack([linear, (np.array([side / 2, side / 2]) - linear @ centre)[:, None]])


class FaceMeshLandmarker:
    """Runs a face-mesh model (NHWC float input in [0, 1] scaled by the manifest's mean/std, output: 468
    (x, y, z) points in input pixels) on every face of a photo in one batch."""

    def __init__(self, session: Session, spec: LandmarkerSpec) -> None:
        self.session = session
        self.spec = spec
        self.input_name = session.get_inputs()[0].name
        self.output_name = session.get_outputs()[0].name
        self.side = spec.input_size[0]

    def _blob(self, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        pixels = crops if self.spec.color == "RGB" else crops[..., ::-1]
        gain = 1.0 / np.asarray(self.spec.std, dtype=np.float32)
        blob = np.multiply(pixels, gain, dtype=np.float32)  # one pass: this runs for every face
        if any(self.spec.mean):
            blob -= np.asarray(self.spec.mean, dtype=np.float32) * gain
        return np.ascontiguousarray(blob)

    def points(
        self, rgb: npt.NDArray[np.uint8], detections: Sequence[Detection]
    ) -> list[npt.NDArray[np.float32]]:
        """Five alignment points (5, 2, image pixels) for each detection, in order."""
        if not detections:
            return []
        side = self.side
        transforms = [region_transform(d, side, self.spec.roi_scale) for d in detections]
        crops = np.stack(
            [cv2.warpAffine(rgb, m, (side, side), flags=cv2.INTER_LINEAR) for m in transforms]
        ).astype(np.uint8)
        output = np.asarray(self.session.run([self.output_name], {self.input_name: self._blob(crops)})[0])
        meshes = output.reshape(len(detections), MESH_POINTS, -1)[:, :, :2].astype(np.float64)
        result = []
        for mesh, matrix in zip(meshes, transforms, strict=True):
            back = cv2.invertAffineTransform(matrix)
            image_points = five_points(mesh) @ back[:, :2].T + back[:, 2]
            result.append(image_points.astype(np.float32))
        return result
