"""One vector per image: run a system's face pipeline once per photo, keep the largest face, record the rest.

An image that gives no face, or fails (an ``FRSError`` from the pipeline, say an undecodable file), has no
vector; the protocol then counts its searches as failed (a miss when mated, nobody named when non-mated),
as FRVT counts failures to extract. Other exceptions are bugs and propagate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from frs.errors import FRSError

Vector = npt.NDArray[np.float32]


class FaceEmbedding(Protocol):
    """What is needed of one detected face; ``frs.pipeline``'s ``AnalyzedFace`` fits as is."""

    @property
    def bbox(self) -> Sequence[float]: ...  # x1, y1, x2, y2

    @property
    def embedding(self) -> npt.NDArray[Any] | None: ...  # None: detected but not embedded


@dataclass(frozen=True)
class Face:
    """A plain :class:`FaceEmbedding` for pipelines without FRS's type (the peer, tests)."""

    bbox: tuple[float, float, float, float]
    embedding: Vector


#: A system's face pipeline: the faces found in one image file.
EmbedFn = Callable[[Path], Sequence[FaceEmbedding]]


@dataclass
class ImageIssues:
    """Images that did not give exactly one face. Paths are relative to the dataset (or CSV) folder."""

    no_face: list[str] = field(default_factory=list)  # no vector: its searches fail
    multiple_faces: list[str] = field(default_factory=list)  # evaluated with the largest face
    failed: list[dict[str, str]] = field(default_factory=list)  # {"path", "code", "message"}; no vector


def _area(face: FaceEmbedding) -> float:
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


@dataclass
class ImageVectors:
    """The vector of every image a run embedded (``None``: no usable face) and what went wrong where."""

    root: Path
    vectors: dict[Path, Vector | None] = field(default_factory=dict)
    issues: ImageIssues = field(default_factory=ImageIssues)

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def get(self, path: Path) -> Vector | None:
        return self.vectors[path]

    @property
    def n_embedded(self) -> int:
        return sum(vector is not None for vector in self.vectors.values())


def embed_images(
    paths: Iterable[Path], embed: EmbedFn, root: Path, *, normalise: bool, progress: bool, label: str
) -> ImageVectors:
    """Each distinct path embedded once. ``normalise`` rescales vectors to unit length (cosine systems)."""
    result = ImageVectors(root)
    todo = list(dict.fromkeys(paths))
    for path in tqdm(todo, desc=f"embedding ({label})", unit="img", disable=not progress or not todo):
        result.vectors[path] = _embed_one(result, embed, path, normalise=normalise)
    return result


def _embed_one(result: ImageVectors, embed: EmbedFn, path: Path, *, normalise: bool) -> Vector | None:
    shown = result.display(path)
    try:
        faces = list(embed(path))
    except FRSError as exc:
        if exc.code == "no_face":
            result.issues.no_face.append(shown)
        else:
            result.issues.failed.append({"path": shown, "code": exc.code, "message": exc.message})
        return None
    if not faces:
        result.issues.no_face.append(shown)
        return None
    if len(faces) > 1:
        result.issues.multiple_faces.append(shown)
    face = max(faces, key=_area)
    vector = None if face.embedding is None else np.asarray(face.embedding, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector)) if vector is not None else 0.0
    if vector is None or not math.isfinite(norm) or norm == 0.0:
        message = "the face has no embedding" if vector is None else "zero or non-finite embedding"
        result.issues.failed.append({"path": shown, "code": "invalid_embedding", "message": message})
        return None
    if not normalise:
        return vector
    # Re-normalising is cheap and makes every score a cosine whatever the producer did.
    unit: Vector = vector / np.float32(norm)
    return unit
