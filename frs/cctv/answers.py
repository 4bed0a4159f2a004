"""The one reader of ``FaceService.identify``'s answer, so its field names are known in one place.

Everything downstream (results, alerts, tracks) uses :class:`FaceAnswer`. The reader also accepts the
seed's older spellings (``score`` for ``det_score``, ``name`` in candidates), and derives ``reason`` when an
answer has none: null when a name was given, ``empty_gallery`` without candidates, else ``below_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Box = tuple[float, float, float, float]

BELOW_THRESHOLD = "below_threshold"
EMPTY_GALLERY = "empty_gallery"
LOW_QUALITY = "low_quality"


@dataclass(frozen=True)
class FaceAnswer:
    bbox: Box
    det_score: float | None
    identity: str | None
    similarity: float | None
    reason: str | None  # None exactly when identity is a name
    quality: dict[str, Any] | None
    candidates: tuple[tuple[str, float], ...]

    @property
    def shorter_side(self) -> float:
        return min(self.bbox[2] - self.bbox[0], self.bbox[3] - self.bbox[1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "bbox": list(self.bbox),
            "det_score": self.det_score,
            "quality": self.quality,
            "identity": self.identity,
            "similarity": self.similarity,
            "reason": self.reason,
            "candidates": [{"identity": name, "similarity": score} for name, score in self.candidates],
        }


@dataclass(frozen=True)
class IdentifyAnswer:
    image: dict[str, Any] | None
    threshold: float | None
    operating_point: dict[str, Any] | None
    faces: tuple[FaceAnswer, ...]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _box(value: Any) -> Box:
    numbers = [float(v) for v in value] if isinstance(value, list | tuple) else []
    if len(numbers) != 4:
        raise ValueError(f"a face box must be 4 numbers, got {value!r}")
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def _candidate(raw: Any) -> tuple[str, float] | None:
    if not isinstance(raw, dict):
        return None
    name = raw.get("identity", raw.get("name"))
    score = _number(raw.get("similarity"))
    return (name, score) if isinstance(name, str) and score is not None else None


def read_face(raw: dict[str, Any]) -> FaceAnswer:
    identity = raw.get("identity") if isinstance(raw.get("identity"), str) else None
    candidates = tuple(c for c in (_candidate(r) for r in raw.get("candidates") or []) if c is not None)
    reason = raw.get("reason") if isinstance(raw.get("reason"), str) else None
    if identity is None and reason is None:
        reason = BELOW_THRESHOLD if candidates or raw.get("similarity") is not None else EMPTY_GALLERY
    quality = raw.get("quality") if isinstance(raw.get("quality"), dict) else None
    return FaceAnswer(
        bbox=_box(raw.get("bbox")),
        det_score=_number(raw.get("det_score", raw.get("score"))),
        identity=identity,
        similarity=_number(raw.get("similarity")),
        reason=None if identity is not None else reason,
        quality=quality,
        candidates=candidates,
    )


def read_identify_answer(answer: dict[str, Any]) -> IdentifyAnswer:
    """``FaceService.identify``'s answer, in either vocabulary."""
    point = answer.get("operating_point")
    return IdentifyAnswer(
        image=answer.get("image") if isinstance(answer.get("image"), dict) else None,
        threshold=_number(answer.get("threshold")),
        operating_point=point if isinstance(point, dict) else None,
        faces=tuple(read_face(face) for face in answer.get("faces") or []),
    )
