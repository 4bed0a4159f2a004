"""Faces linked across a clip's sampled frames into tracks: one person, one track.

Greedy association, frame by frame: a face joins the open track whose last face it resembles most, if

* their embeddings are at least ``link_similarity`` apart in cosine (the pack's match threshold: consecutive
  samples of one person score far above it, two people rarely reach it), and
* their boxes overlap (IoU >= ``min_iou``), or the embeddings agree so strongly (>= ``strong_similarity``)
  that the person moved or was hidden in between.

Pairs are taken best first (similarity + IoU), one face per track per frame; a face left over starts a new
track. A track closes when it has not been seen for ``max_gap_s`` seconds. Greedy is enough at 2 samples a
second with a handful of faces; it never needs more than (tracks x faces) comparisons per frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Observation:
    time_s: float
    bbox: Box
    embedding: npt.NDArray[np.float32]  # L2-normalised
    det_score: float
    quality: float  # 0..1, the weight of this face in the track's decision
    quality_detail: dict[str, object]
    refusals: tuple[str, ...] = ()  # issue codes failing identify's quality filter (empty: it passed)


@dataclass
class Track:
    observations: list[Observation] = field(default_factory=list)

    @property
    def last(self) -> Observation:
        return self.observations[-1]

    @property
    def best(self) -> Observation:
        """The face that represents the track: highest quality, then largest."""
        return max(self.observations, key=lambda o: (o.quality, _area(o.bbox)))

    def pooled_embedding(self) -> npt.NDArray[np.float32]:
        """Quality-weighted mean of the track's embeddings, normalised; sharper, larger faces weigh more."""
        weights = np.array([max(o.quality, 1e-3) for o in self.observations], dtype=np.float64)
        stacked = np.stack([o.embedding for o in self.observations]).astype(np.float64)
        pooled = (weights[:, None] * stacked).sum(axis=0)
        norm = float(np.linalg.norm(pooled))
        unit = pooled / norm if norm > 0 else stacked[0]
        return np.asarray(unit, dtype=np.float32)


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def iou(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / (_area(a) + _area(b) - inter)


@dataclass(frozen=True)
class LinkRules:
    link_similarity: float
    strong_similarity: float
    min_iou: float = 0.1
    max_gap_s: float = 2.0

    @classmethod
    def for_threshold(cls, match_threshold: float) -> LinkRules:
        """Rules for a pack whose match threshold is ``match_threshold``: link at it; re-link a face that
        moved without overlap half-way between it and a perfect match."""
        return cls(link_similarity=match_threshold, strong_similarity=(1.0 + match_threshold) / 2)


def link(frames: Iterable[Sequence[Observation]], rules: LinkRules) -> list[Track]:
    """Tracks from the faces of each sampled frame, in time order; tracks ordered by first sighting."""
    tracks: list[Track] = []
    for faces in frames:
        if not faces:
            continue
        now = faces[0].time_s
        open_tracks = [t for t in tracks if now - t.last.time_s <= rules.max_gap_s]
        pairs: list[tuple[float, int, int]] = []
        for t_index, track in enumerate(open_tracks):
            for f_index, face in enumerate(faces):
                similarity = float(np.dot(track.last.embedding, face.embedding))
                overlap = iou(track.last.bbox, face.bbox)
                if similarity < rules.link_similarity:
                    continue
                if overlap < rules.min_iou and similarity < rules.strong_similarity:
                    continue
                pairs.append((similarity + overlap, t_index, f_index))
        used_tracks: set[int] = set()
        used_faces: set[int] = set()
        for _, t_index, f_index in sorted(pairs, reverse=True):
            if t_index in used_tracks or f_index in used_faces:
                continue
            open_tracks[t_index].observations.append(faces[f_index])
            used_tracks.add(t_index)
            used_faces.add(f_index)
        for f_index, face in enumerate(faces):
            if f_index not in used_faces:
                tracks.append(Track([face]))
    return tracks
