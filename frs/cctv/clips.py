"""One clip -> tracks, each with one identity decided from all of its faces.

Sampled frames (:mod:`frs.cctv.video`) go through the service's pipeline (``FaceAnalyzer.analyze``: the
same detector, alignment, embedder and ``FRS_MIN_FACE`` as every other request; a sampled frame is handed
over as a BMP, which costs a copy, not a lossy re-encode). Each face comes with the pipeline's quality,
faces are linked into tracks (:mod:`frs.cctv.tracking`), and each track is decided once: its
quality-weighted mean embedding is searched in the camera's gallery and judged by the open-set rule of
:mod:`frs.decision.open_set` at the operating point ``FaceService.identify`` uses for that gallery's size
(``FRS_TARGET_FPIR`` through the pack's calibration, or the configured threshold), with identify's quality
filter applied to the track's best face. Pooling a track's faces lets
five mediocre frames of a person outvote one bad one, and makes one decision (and at most one alert) per
person per clip.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from frs.cctv.cameras import CameraConfig
from frs.cctv.frames import TOP_K
from frs.cctv.tracking import LinkRules, Observation, Track, link
from frs.cctv.video import Clip, SampledFrame, VideoInfo
from frs.decision.open_set import decide
from frs.decision.operating_point import OperatingPoint
from frs.decision.policy import identify_point_dict
from frs.errors import FRSError
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from frs.service import REASONS, FaceService


@dataclass(frozen=True)
class TrackDecision:
    track: Track
    identity: str | None
    similarity: float | None
    reason: str | None
    candidates: tuple[tuple[str, float], ...]

    def to_dict(self, index: int) -> dict[str, Any]:
        first, last, best = self.track.observations[0], self.track.last, self.track.best
        return {
            "index": index,
            "identity": self.identity,
            "similarity": self.similarity,
            "reason": self.reason,
            "candidates": [{"identity": name, "similarity": score} for name, score in self.candidates],
            "faces": len(self.track.observations),
            "first_seen_s": round(first.time_s, 3),
            "last_seen_s": round(last.time_s, 3),
            "best": {
                "time_s": round(best.time_s, 3),
                "bbox": [round(v, 1) for v in best.bbox],
                "det_score": round(best.det_score, 4),
                "quality": best.quality_detail,
            },
        }


@dataclass(frozen=True)
class ClipFaces:
    video: VideoInfo
    samples: int
    threshold: float
    operating_point: dict[str, Any]
    tracks: tuple[TrackDecision, ...]
    too_small: int


class _Sampler:
    """Turns sampled frames into observations, counting the faces below the camera's minimum."""

    def __init__(self, service: FaceService, min_face: int) -> None:
        self.analyzer = service.analyzer
        self.level = service.identify_filter_level()
        self.min_face = min_face
        self.samples = 0
        self.too_small = 0

    def observe(self, sample: SampledFrame) -> list[Observation]:
        self.samples += 1
        ok, encoded = cv2.imencode(".bmp", sample.bgr)
        if not ok:
            raise FRSError(
                "invalid_clip", f"frame {sample.index} of the clip cannot be handed to the detector"
            )
        # No detection fallback: most frames hold nobody, and a track needs faces the detector is sure of.
        faces = self.analyzer.analyze(encoded.tobytes(), fallback=False).faces
        out = []
        for face in faces:
            if min(face.bbox[2] - face.bbox[0], face.bbox[3] - face.bbox[1]) < self.min_face:
                self.too_small += 1
                continue
            assert face.embedding is not None
            out.append(
                Observation(
                    time_s=sample.time_s,
                    bbox=face.bbox,
                    embedding=face.embedding,
                    det_score=face.score,
                    quality=face.quality.overall,
                    quality_detail=face.quality.to_dict(),
                    refusals=self.analyzer.quality_refusals(face, self.level),
                )
            )
        return out


def decide_tracks(
    store: Gallery, pack: PackInfo, tracks: list[Track], point: OperatingPoint
) -> list[TrackDecision]:
    """One identity per track: its pooled embedding against ``store``, at ``point``; a track whose best
    face fails identify's quality filter is ``low_quality`` (it still lists its candidates)."""
    if not tracks:
        return []
    pooled = np.stack([track.pooled_embedding() for track in tracks])
    results = store.search(pooled, pack=pack, top_k=TOP_K)
    decisions = []
    for track, found in zip(tracks, results, strict=True):
        candidates = tuple((c.name, round(c.similarity, 4)) for c in found)
        decision = decide(candidates, point, quality_issues=track.best.refusals)
        reason = REASONS[decision.reason]  # identify's words for the same outcomes
        decisions.append(
            TrackDecision(
                track=track,
                identity=decision.identity,
                similarity=candidates[0][1] if candidates else None,
                reason=reason,
                candidates=candidates,
            )
        )
    return decisions


def _until(deadline: float | None, samples: Iterator[SampledFrame]) -> Iterator[SampledFrame]:
    """``samples`` while the invocation has time left; ``clip_too_long`` rather than a Lambda timeout."""
    for sample in samples:
        if deadline is not None and time.monotonic() > deadline:
            raise FRSError(
                "clip_too_long",
                f"the invocation ran out of time at {sample.time_s:.1f} s of the clip (many faces?); "
                "lower FRS_MAX_CLIP_SECONDS or FRS_VIDEO_FPS, or raise the function's timeout",
            )
        yield sample


def identify_clip(
    service: FaceService,
    camera: CameraConfig,
    path: Path,
    *,
    fps: float,
    max_seconds: float,
    deadline: float | None = None,
) -> ClipFaces:
    """Tracks of the clip at ``path`` on ``camera``'s gallery (FRSError for an unusable clip). ``deadline``
    (``time.monotonic()`` value): stop sampling then, with ``clip_too_long``."""
    sampler = _Sampler(service, camera.min_face)
    with Clip(path, max_seconds=max_seconds) as clip:
        # Linking stays at the pack's 1:1 threshold: it compares a face with the previous frame's, not with
        # a gallery, so the gallery's size has nothing to do with it.
        tracks = link(
            (sampler.observe(s) for s in _until(deadline, clip.samples(fps))),
            LinkRules.for_threshold(service.analyzer.manifest.recognizer.match_threshold),
        )
        info = clip.info
    store = service.gallery(camera.gallery)
    gallery_faces = store.face_count()
    point = service.identify_operating_point(gallery_faces)
    return ClipFaces(
        video=info,
        samples=sampler.samples,
        threshold=round(point.threshold, 4),
        operating_point=identify_point_dict(point, gallery_faces, sampler.level),
        tracks=tuple(decide_tracks(store, service.analyzer.pack, tracks, point)),
        too_small=sampler.too_small,
    )
