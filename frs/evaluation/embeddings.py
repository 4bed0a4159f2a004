"""One vector per image: run a system's face pipeline once per photo, keep one face by a stated rule, record
the rest.

The rule says which face a labelled photo stands for when it holds several. ``largest`` (the default) is
what ``add --largest`` and ``verify`` take; ``centre`` takes the face nearest the photo's centre, for datasets
whose photos are cut around the labelled person (LFW is: its 250x250 photos are centred on the detected
face, and a bystander's box can be the larger one). A report states the rule it used.

An image that gives no face, or fails (an ``FRSError`` from the pipeline, say an undecodable file), has no
vector; the protocol then counts its searches as failed (a miss when mated, nobody named when non-mated),
as FRVT counts failures to extract. Other exceptions are bugs and propagate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from PIL import Image
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
    multiple_faces: list[str] = field(default_factory=list)  # evaluated with the face the rule chose
    failed: list[dict[str, str]] = field(default_factory=list)  # {"path", "code", "message"}; no vector


#: Which face a photo with several stands for; see the module docstring.
FaceRule = Literal["largest", "centre"]
FACE_RULES: tuple[FaceRule, ...] = ("largest", "centre")


def _area(face: FaceEmbedding) -> float:
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def choose_face(faces: Sequence[FaceEmbedding], rule: FaceRule, size: tuple[int, int]) -> FaceEmbedding:
    """The face of ``faces`` (not empty) that the photo of ``size`` (width, height) stands for under ``rule``.

    >>> a, b = Face((0, 0, 50, 50), np.ones(2, np.float32)), Face((40, 40, 60, 60), np.ones(2, np.float32))
    >>> choose_face([a, b], "largest", (100, 100)) is a, choose_face([a, b], "centre", (100, 100)) is b
    (True, True)
    """
    if rule == "largest":
        return max(faces, key=_area)
    cx, cy = size[0] / 2.0, size[1] / 2.0

    def distance(face: FaceEmbedding) -> float:
        x1, y1, x2, y2 = (float(v) for v in face.bbox)
        return math.hypot((x1 + x2) / 2.0 - cx, (y1 + y2) / 2.0 - cy)

    return min(faces, key=distance)


#: EXIF orientations that turn the photo a quarter: the decoder (which applies them) swaps width and height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) as the pipeline sees the photo, from the file's header: the pipeline already decoded
    the pixels, and it applies the EXIF orientation, so the boxes are in the turned frame."""
    with Image.open(path) as image:
        width, height = image.size
        turned = image.getexif().get(0x0112) in _QUARTER_TURNS
    return (int(height), int(width)) if turned else (int(width), int(height))


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
    paths: Iterable[Path],
    embed: EmbedFn,
    root: Path,
    *,
    normalise: bool,
    progress: bool,
    label: str,
    face_rule: FaceRule = "largest",
) -> ImageVectors:
    """Each distinct path embedded once, its face chosen by ``face_rule``. ``normalise`` rescales vectors to
    unit length (cosine systems)."""
    result = ImageVectors(root)
    todo = list(dict.fromkeys(paths))
    for path in tqdm(todo, desc=f"embedding ({label})", unit="img", disable=not progress or not todo):
        result.vectors[path] = _embed_one(result, embed, path, normalise=normalise, face_rule=face_rule)
    return result


def _embed_one(
    result: ImageVectors, embed: EmbedFn, path: Path, *, normalise: bool, face_rule: FaceRule
) -> Vector | None:
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
    if len(faces) == 1:
        face = faces[0]
    else:  # only the centre rule needs the photo's size
        face = choose_face(faces, face_rule, image_size(path) if face_rule == "centre" else (0, 0))
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
