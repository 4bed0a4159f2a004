"""Face quality: how fit one detected face is for recognition, from its pixels and its 5 landmarks.

``assess_quality`` is a pure function of the decoded RGB image and one detection (box, 5 landmarks, detection
score), all in that image's pixels. It costs about a millisecond or less per face (one 64x64 warp and a
Laplacian; under 2% of detection + embedding), so it can run on every face of every request. It measures:

- ``face_size``: the shorter side of the detection box in pixels (the same measure ``FRS_MIN_FACE`` uses; it
  does not shrink when the head turns, unlike the eye distance, which is reported as ``interocular``);
- ``sharpness`` 0..1: the standard deviation of the Laplacian of the face, divided by the standard deviation
  of its grey levels (so contrast and exposure cancel out), measured on a crop aligned to a fixed 64x64 frame
  (so it does not depend on face size: a small face is upsampled, and lacks detail exactly as the recognizer
  sees it), and divided by the median of that ratio on the lfw-dev photos, capped at 1;
- ``yaw``, ``pitch``, ``roll`` in degrees, from the landmarks with a weak-perspective model of an average face
  (see :func:`estimate_pose`);
- ``brightness`` 0..1 (mean luminance of the aligned face) and ``contrast`` (its standard deviation);
- ``detection_score``, as the detector gave it.

``overall`` (0..1) is the product of one 0..1 factor per measure, so any single defect lowers it. Issue codes
come from thresholds grouped in filter levels ``none | low | medium | high`` (the words Amazon Rekognition
uses); :func:`refusal_reasons` says which codes a face fails at a level. The thresholds were calibrated on
lfw-dev and degraded copies of it (docs in the issue-12 research note). What depends on the detector (its
detection-score scale, where its nose landmark sits on a level face) comes from the pack manifest's
:class:`~frs.packs.manifest.DetectorQuality`; :func:`level_thresholds` applies it to the levels.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from frs.errors import FRSError
from frs.packs.manifest import DetectorQuality
from frs.pipeline.align import align_face

FilterLevel = Literal["none", "low", "medium", "high"]
FILTER_LEVELS: tuple[FilterLevel, ...] = ("none", "low", "medium", "high")
#: Level used for the ``issues`` every face reports (what a good photo should meet).
REPORT_LEVEL: FilterLevel = "medium"

SMALL_FACE = "SMALL_FACE"
LOW_SHARPNESS = "LOW_SHARPNESS"
EXTREME_POSE = "EXTREME_POSE"
LOW_BRIGHTNESS = "LOW_BRIGHTNESS"
LOW_CONFIDENCE = "LOW_CONFIDENCE"
ISSUE_CODES = (SMALL_FACE, LOW_SHARPNESS, EXTREME_POSE, LOW_BRIGHTNESS, LOW_CONFIDENCE)

# The 64x64 aligned frame sharpness and brightness are measured in (eye distance ~20 px), and the region of it
# that is face rather than hair or background.
_FRAME = 64
_INNER = (slice(14, 60), slice(10, 54))
# Median sharpness ratio of the 1,549 lfw-dev photos (250x250 JPEG news photos, faces ~95 px): a face as crisp
# as a typical press photo scores 1.
_SHARPNESS_REFERENCE = 2.39

# Average face, in eye-distance units, for the pose model: 2D positions from the ArcFace alignment template
# (a frontal mean), depths (towards the camera, relative to the eyes) from adult anthropometry: the nose tip
# is ~35 mm in front of the pupils, the mouth corners ~10 mm, for a 63 mm pupil distance.
# The ArcFace template puts the nose 0.494 of the way from the eye line to the mouth; SCRFD's median on the
# 1,549 lfw-dev faces is 0.538 (YuNet's: see models/open.json). Press photos are taken at eye level on
# average, so each detector's median is taken as level: the nose drop is ``level_nose * _MOUTH_DROP``.
_MOUTH_DROP = 1.155  # mouth-corner midpoint below the eye line
#: SCRFD's reading, the default for a manifest without a detector ``"quality"`` object.
DEFAULT_DETECTOR = DetectorQuality()
_NOSE_DROP = DEFAULT_DETECTOR.level_nose * _MOUTH_DROP  # nose tip below the eye line, SCRFD's level
_NOSE_DEPTH = 0.55
_MOUTH_DEPTH = 0.15


@dataclass(frozen=True)
class LevelThresholds:
    min_face_size: float  # pixels, shorter box side
    min_sharpness: float
    max_yaw: float  # degrees, absolute
    max_pitch: float
    max_roll: float
    min_brightness: float
    min_detection_score: float


#: Per filter level, the thresholds below (or above, for angles) which a face gets an issue code. Calibrated
#: on lfw-dev and degraded copies (research note, quality section): ``low`` refuses faces the embedded pack
#: recognised less than ~25% of the time at the 30-face operating point, ``medium`` less than ~50-70%,
#: ``high`` keeps only faces recognised ~90% of the time. The detection-score floors here are SCRFD's scale;
#: :func:`level_thresholds` puts another detector's floors in.
LEVEL_THRESHOLDS: dict[FilterLevel, LevelThresholds] = {
    "low": LevelThresholds(20, 0.20, 75, 50, 70, 0.03, 0.55),
    "medium": LevelThresholds(24, 0.30, 55, 40, 45, 0.05, 0.65),
    "high": LevelThresholds(40, 0.40, 40, 30, 30, 0.08, 0.72),
}


@functools.cache
def level_thresholds(detector: DetectorQuality) -> dict[FilterLevel, LevelThresholds]:
    """:data:`LEVEL_THRESHOLDS` with ``detector``'s own detection-score floors (its scores' scale)."""
    floors = dict(zip(("low", "medium", "high"), detector.min_score, strict=True))
    return {
        level: dataclasses.replace(limits, min_detection_score=floors[level])
        for level, limits in LEVEL_THRESHOLDS.items()
    }


@dataclass(frozen=True)
class Pose:
    yaw: float  # degrees; > 0: the face turns towards the image's right (the nose points right)
    pitch: float  # degrees; > 0: the face tilts up (chin raised)
    roll: float  # degrees; > 0: the eye line turns clockwise as seen in the image


@dataclass(frozen=True)
class Quality:
    overall: float
    face_size: float
    interocular: float
    sharpness: float
    pose: Pose
    brightness: float
    contrast: float
    detection_score: float
    issues: tuple[str, ...]  # codes at REPORT_LEVEL

    def to_dict(self) -> dict[str, object]:
        """The answers' ``quality`` object, in the API's words (``score``, ``face_px``, ``det_score``)."""
        return {
            "score": round(self.overall, 3),
            "face_px": round(self.face_size, 1),
            "interocular": round(self.interocular, 1),
            "sharpness": round(self.sharpness, 3),
            "pose": {
                "yaw": round(self.pose.yaw, 1),
                "pitch": round(self.pose.pitch, 1),
                "roll": round(self.pose.roll, 1),
            },
            "brightness": round(self.brightness, 3),
            "contrast": round(self.contrast, 3),
            "det_score": round(self.detection_score, 4),
            "issues": list(self.issues),
        }


def estimate_pose(landmarks: npt.ArrayLike, level_nose: float = DEFAULT_DETECTOR.level_nose) -> Pose:
    """Yaw, pitch and roll (degrees) from 5 landmarks: left eye, right eye, nose tip, mouth corners.

    Roll is the angle of the eye line. The landmarks are then turned upright and, under weak perspective, a
    point of the average face at depth ``z`` (eye-distance units) moves sideways by ``z sin(yaw)`` while the
    eye distance shrinks by ``cos(yaw)``: so ``tan(yaw)`` is the nose tip's offset from the eye-mouth midline,
    over the eye distance, over the nose's depth relative to that midline. Pitch follows from where the nose
    sits between the eye line and the mouth: ``q = nose drop / mouth drop`` gives
    ``tan(pitch) = (q * mouth_drop - nose_drop) / (nose_depth - q * mouth_depth)``.
    Accurate for roll (exact geometry); yaw and pitch carry the average face's proportions, so a person's
    own nose depth and a detector's landmark habits bias them (see the research note: roughly +-25% on the
    tangent, larger beyond ~50 degrees where a 5-point detector's landmarks degrade). ``level_nose`` is
    where the detector puts the nose of a level face (:class:`~frs.packs.manifest.DetectorQuality`).
    """
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    left_eye, right_eye = points[0], points[1]
    eye_vector = right_eye - left_eye
    roll = math.atan2(eye_vector[1], eye_vector[0])
    cos_r, sin_r = math.cos(-roll), math.sin(-roll)
    upright = (points - (left_eye + right_eye) / 2) @ np.array([[cos_r, sin_r], [-sin_r, cos_r]])
    eye_distance = max(float(np.linalg.norm(eye_vector)), 1e-6)
    nose = upright[2] / eye_distance
    mouth = (upright[3] + upright[4]) / 2 / eye_distance
    mouth_drop = max(float(mouth[1]), 1e-6)
    # q: where the nose sits between the eye line (0) and the mouth (1); also the height at which the nose
    # meets the midline through the eye midpoint (the origin) and the mouth midpoint.
    q = float(nose[1]) / mouth_drop
    offset = float(nose[0]) - q * float(mouth[0])
    yaw = math.atan2(offset, _NOSE_DEPTH - q * _MOUTH_DEPTH)
    pitch_down = math.atan2(q * _MOUTH_DROP - level_nose * _MOUTH_DROP, _NOSE_DEPTH - q * _MOUTH_DEPTH)
    return Pose(yaw=math.degrees(yaw), pitch=-math.degrees(pitch_down), roll=math.degrees(roll))


def _ramp(value: float, low: float, high: float) -> float:
    """0 at ``low`` or below, 1 at ``high`` or above, linear between."""
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _overall(
    face_size: float, sharpness: float, pose: Pose, brightness: float, score: float, detector: DetectorQuality
) -> float:
    # Each factor is 1 where lfw-dev faces were recognised as well as unimpaired ones and 0 where they
    # stopped being recognised (research note, quality section); pitch and roll count less than yaw.
    angle = max(abs(pose.yaw), abs(pose.pitch) * 0.8, abs(pose.roll) * 0.7)
    factors = (
        _ramp(face_size, 16, 40),
        _ramp(sharpness, 0.15, 0.5),
        1.0 - _ramp(angle, 30, 80),
        _ramp(brightness, 0.02, 0.1),
        _ramp(score, detector.min_score[0], detector.full_score),
    )
    return float(np.prod(factors))


def _issues(
    face_size: float, sharpness: float, pose: Pose, brightness: float, score: float, limits: LevelThresholds
) -> tuple[str, ...]:
    failed = {
        SMALL_FACE: face_size < limits.min_face_size,
        LOW_SHARPNESS: sharpness < limits.min_sharpness,
        EXTREME_POSE: abs(pose.yaw) > limits.max_yaw
        or abs(pose.pitch) > limits.max_pitch
        or abs(pose.roll) > limits.max_roll,
        LOW_BRIGHTNESS: brightness < limits.min_brightness,
        LOW_CONFIDENCE: score < limits.min_detection_score,
    }
    return tuple(code for code in ISSUE_CODES if failed[code])


def assess_quality(
    rgb: npt.NDArray[np.uint8],
    bbox: npt.ArrayLike,
    landmarks: npt.ArrayLike,
    detection_score: float,
    detector: DetectorQuality = DEFAULT_DETECTOR,
) -> Quality:
    """Quality of one face of ``rgb`` (HxWx3 uint8); ``bbox`` (x1, y1, x2, y2) and ``landmarks`` (5x2) are
    in ``rgb``'s pixels (for a downscaled working image, pass its coordinates, not the original's), found by
    a detector whose scores and landmarks read as ``detector`` says (SCRFD's by default)."""
    box = np.asarray(bbox, dtype=np.float64).reshape(4)
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    face_size = float(max(0.0, min(box[2] - box[0], box[3] - box[1])))
    interocular = float(np.linalg.norm(points[1] - points[0]))
    crop = align_face(rgb, points, (_FRAME, _FRAME))
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)[_INNER]
    grey_std = float(grey.std())
    laplacian_std = float(cv2.Laplacian(grey, cv2.CV_32F, ksize=3).std())
    sharpness = min(1.0, laplacian_std / max(grey_std, 1.0) / _SHARPNESS_REFERENCE)
    brightness = float(grey.mean()) / 255.0
    pose = estimate_pose(points, detector.level_nose)
    score = float(detection_score)
    report_limits = level_thresholds(detector)[REPORT_LEVEL]
    return Quality(
        overall=_overall(face_size, sharpness, pose, brightness, score, detector),
        face_size=face_size,
        interocular=interocular,
        sharpness=sharpness,
        pose=pose,
        brightness=brightness,
        contrast=grey_std / 255.0,
        detection_score=score,
        issues=_issues(face_size, sharpness, pose, brightness, score, report_limits),
    )


def parse_filter_level(value: str) -> FilterLevel:
    """``value`` as a filter level, or ``bad_request`` naming the accepted words."""
    for level in FILTER_LEVELS:
        if value == level:
            return level
    raise FRSError("bad_request", f"quality_filter must be one of {', '.join(FILTER_LEVELS)}; got {value!r}")


def refusal_reasons(
    quality: Quality,
    level: FilterLevel,
    thresholds: Mapping[FilterLevel, LevelThresholds] = LEVEL_THRESHOLDS,
) -> tuple[str, ...]:
    """The issue codes that make ``quality`` fail the filter ``level`` (none for ``none``)."""
    if level == "none":
        return ()
    return _issues(
        quality.face_size,
        quality.sharpness,
        quality.pose,
        quality.brightness,
        quality.detection_score,
        thresholds[level],
    )
