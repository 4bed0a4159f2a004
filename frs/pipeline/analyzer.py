"""``FaceAnalyzer``: one pack's detector + recognizer composed into detect / analyze calls, with the quality
of every face and the pack's calibration record.

``load_analyzer`` caches one analyzer per pack and settings for the life of the process, so a Lambda pays for
model loading once, during INIT.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from frs.config import Settings
from frs.decision.calibration import Calibration, load_pack_calibration
from frs.packs.info import PackInfo
from frs.packs.manifest import PackManifest, load_manifest, weight_path
from frs.pipeline.align import align_face
from frs.pipeline.decode import DecodedImage, decode_image
from frs.pipeline.detectors import Detection, load_detector
from frs.pipeline.embedder import Embedder
from frs.pipeline.frame_filling import FrameFillingLook, closer_look, fills_frame, load_frame_filling_look
from frs.pipeline.illumination import DETECT, brighten, is_dark
from frs.pipeline.landmarker import FaceMeshLandmarker
from frs.pipeline.quality import FilterLevel, Quality, assess_quality, level_thresholds, refusal_reasons
from frs.pipeline.refine import LandmarkRefiner, load_refiner
from frs.pipeline.runtime import create_session, load_session

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class AnalyzedFace:
    bbox: Box  # original image pixels
    score: float  # the detector's, on its own scale
    landmarks: npt.NDArray[np.float32]  # 5x2, original image pixels
    embedding: npt.NDArray[np.float32] | None  # L2-normalised; None when only detecting
    quality: Quality  # measured on the working image (the pixels the detector and recognizer saw)

    @property
    def area(self) -> float:
        return max(0.0, self.bbox[2] - self.bbox[0]) * max(0.0, self.bbox[3] - self.bbox[1])

    def to_dict(self) -> dict[str, object]:
        return {
            "bbox": [round(v, 1) for v in self.bbox],
            "det_score": round(self.score, 4),
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in self.landmarks],
            "quality": self.quality.to_dict(),
        }


@dataclass(frozen=True)
class Analysis:
    width: int
    height: int
    faces: list[AnalyzedFace]  # best detection score first

    def image_dict(self) -> dict[str, int]:
        return {"width": self.width, "height": self.height}


class FaceAnalyzer:
    def __init__(self, manifest: PackManifest, settings: Settings) -> None:
        self.manifest = manifest
        self.settings = settings
        det_spec, rec_spec = manifest.detector, manifest.recognizer
        det_size = (settings.det_size, settings.det_size) if settings.det_size else det_spec.input_size
        self.detector_session = create_session(
            weight_path(manifest, det_spec, settings.models_dir), settings.threads
        )
        self.detector = load_detector(det_spec, self.detector_session, det_size, manifest=manifest.path)
        self.frame_filling: FrameFillingLook = load_frame_filling_look(
            det_spec, self.detector_session, manifest=manifest.path
        )
        # The manifest's second look for precise landmarks (None: the first pass's landmarks are used).
        self.refiner: LandmarkRefiner | None = load_refiner(
            det_spec, self.detector_session, manifest=manifest.path
        )
        # The manifest's landmark model, whose points replace the detector's for alignment (None: none).
        self.landmarker: FaceMeshLandmarker | None = None
        if manifest.landmarker is not None:
            mark_spec = manifest.landmarker
            mark_path = weight_path(manifest, mark_spec, settings.models_dir)
            self.landmarker = FaceMeshLandmarker(
                load_session(mark_path, settings.threads, mark_spec.engine), mark_spec
            )
        rec_path = weight_path(manifest, rec_spec, settings.models_dir)
        self.embedder = Embedder(load_session(rec_path, settings.threads, rec_spec.engine), rec_spec)
        self.pack = PackInfo(name=manifest.name, dim=rec_spec.dim)
        # The pack's measured impostor scores (None: no record), read with the models so a bad record fails
        # at start, not on the first identify.
        self.calibration: Calibration | None = load_pack_calibration(manifest.path)

    @property
    def det_threshold(self) -> float:
        """The configured detection score threshold, else the pack's (scores differ between kinds)."""
        configured = self.settings.det_threshold
        return configured if configured is not None else self.manifest.detector.score_threshold

    @property
    def match_threshold(self) -> float:
        """FRS_MATCH_THRESHOLD, else the pack's fixed threshold (the service's operating points start here
        only when neither a request threshold nor a calibration applies; see ``frs.decision.policy``)."""
        configured = self.settings.match_threshold
        return configured if configured is not None else self.manifest.recognizer.match_threshold

    def quality_refusals(self, face: AnalyzedFace, level: FilterLevel) -> tuple[str, ...]:
        """The issue codes that make ``face`` fail the quality filter ``level``, on this detector's scale."""
        return refusal_reasons(face.quality, level, level_thresholds(self.manifest.detector.quality))

    def decode(self, data: bytes) -> DecodedImage:
        return decode_image(data, max_pixels=self.settings.max_pixels, max_side=self.settings.max_side)

    @property
    def fallback_floor(self) -> float | None:
        """The manifest's fallback floor where it lies below the detection threshold in use, else None."""
        floor = self.manifest.detector.fallback_threshold
        return floor if floor is not None and floor < self.det_threshold else None

    def _look(self, rgb: npt.NDArray[np.uint8], floor: float) -> tuple[list[Detection], list[Detection]]:
        """The first pass, and the look for a frame-filling face where it found nothing or one face that fills
        most of the frame (``frs.pipeline.frame_filling``): the faces at the detection threshold, and the
        faces both looks saw between ``floor`` and it (fallback candidates, from the same inferences)."""
        threshold = self.det_threshold
        found, unsure = _split(self.detector.detect(rgb, floor), threshold)
        if not found or fills_frame(found, rgb.shape):
            closer, closer_unsure = _split(self.frame_filling.detect(rgb, floor), threshold)
            found = closer_look(found, closer)
            unsure += closer_unsure
        return found, unsure

    def _find(self, rgb: npt.NDArray[np.uint8], min_side: float, fallback: bool) -> list[Detection]:
        """:meth:`_look`; where it finds nothing in a dark frame, again on a brightened copy (the faces are
        aligned and embedded from ``rgb``). Where every look found nothing, the fallback: the one face that
        scored highest at or above :attr:`fallback_floor` and is at least ``min_side`` pixels (a turned or
        faint head, issue 20 item 3; one face: the fallback is for a photo of someone, not a crowd). The
        looks detect down to that floor, so the fallback costs no inference of its own (its face scores below
        the detection threshold: it carries LOW_CONFIDENCE, see ``DetectorSpec.fallback_threshold``)."""
        floor = (self.fallback_floor if fallback else None) or self.det_threshold
        detections, unsure = self._look(rgb, floor)
        if not detections and self.settings.illumination == DETECT and is_dark(rgb):
            detections, brighter = self._look(brighten(rgb), floor)
            unsure += brighter
        unsure = [d for d in unsure if _shorter_side(d) >= min_side]
        if not detections and unsure:
            return [max(unsure, key=lambda d: d.score)]
        return detections

    def aligned_crops(self, rgb: npt.NDArray[np.uint8], detections: list[Detection]) -> npt.NDArray[np.uint8]:
        """The recognizer's crop of each face, aligned on the landmarker's points where the pack has one."""
        size = self.manifest.recognizer.input_size
        if self.landmarker is not None:
            points = self.landmarker.points(rgb, detections)
            template = self.landmarker.spec.landmark_template
        else:
            points = [d.landmarks for d in detections]
            template = self.manifest.detector.landmark_template
        return np.stack([align_face(rgb, p, size, template) for p in points])

    def analyze(self, data: bytes, *, embed: bool = True, fallback: bool = True) -> Analysis:
        """Detect every face in ``data`` (and embed them, in one batch, unless ``embed`` is False); with
        ``fallback`` False, never the fallback's face (camera frames: most hold nobody)."""
        image = self.decode(data)
        min_side = self.settings.min_face / image.scale
        found = self._find(image.rgb, min_side, fallback)
        detections = [d for d in found if _shorter_side(d) >= min_side]
        embeddings: list[npt.NDArray[np.float32] | None] = [None] * len(detections)
        if embed and detections:
            if self.refiner is not None:  # only where the landmarks are used to align
                detections = self.refiner.refine(image.rgb, detections)
            crops = self.aligned_crops(image.rgb, detections)
            embeddings = list(self.embedder.embed(crops))
        faces = []
        reading = self.manifest.detector.quality
        for detection, embedding in zip(detections, embeddings, strict=True):
            box = np.clip(
                detection.bbox * image.scale, 0, [image.width, image.height, image.width, image.height]
            )
            faces.append(
                AnalyzedFace(
                    bbox=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                    score=detection.score,
                    landmarks=(detection.landmarks * image.scale).astype(np.float32),
                    embedding=embedding,
                    quality=assess_quality(
                        image.rgb, detection.bbox, detection.landmarks, detection.score, reading
                    ),
                )
            )
        return Analysis(width=image.width, height=image.height, faces=faces)


def _split(detections: list[Detection], threshold: float) -> tuple[list[Detection], list[Detection]]:
    """``detections`` at or above ``threshold``, and those below it (in float32, as the detectors compare
    their scores: a look at a lower floor keeps exactly the faces a look at ``threshold`` finds)."""
    limit = np.float32(threshold)
    above = [d for d in detections if np.float32(d.score) >= limit]
    return above, [d for d in detections if np.float32(d.score) < limit]


def _shorter_side(detection: Detection) -> float:
    return float(min(detection.bbox[2] - detection.bbox[0], detection.bbox[3] - detection.bbox[1]))


_analyzers: dict[tuple[object, ...], FaceAnalyzer] = {}
_analyzers_lock = threading.Lock()


def _pipeline_key(settings: Settings) -> tuple[object, ...]:
    """The settings an analyzer depends on: another gallery location needs no second copy of the models."""
    return (
        settings.pack,
        settings.models_dir,
        settings.threads,
        settings.det_threshold,
        settings.det_size,
        settings.min_face,
        settings.illumination,
        settings.match_threshold,
        settings.max_pixels,
        settings.max_side,
    )


def load_analyzer(settings: Settings) -> FaceAnalyzer:
    """The process-wide analyzer for these settings (models loaded on first use, then reused)."""
    key = _pipeline_key(settings)
    with _analyzers_lock:
        analyzer = _analyzers.get(key)
        if analyzer is None:
            analyzer = FaceAnalyzer(load_manifest(settings.pack, settings.models_dir), settings)
            _analyzers[key] = analyzer
        return analyzer
