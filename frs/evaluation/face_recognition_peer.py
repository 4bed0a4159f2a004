"""face_recognition (dlib), the most used open-source face library, as a peer system for ``frs eval`` and
``frs bench``: its own HOG detector, 5-point landmarks and 128-d ResNet descriptor, all with its defaults.

Its scores: the library compares faces by the Euclidean distance of their descriptors and calls two faces the
same person when the distance is at most its documented tolerance, 0.6 (``compare_faces``). ``frs eval``
needs "higher is more alike", so the similarity here is ``1 - distance`` and the peer's operating point is
similarity 0.4, for every gallery size (the library has no notion of one). A development requirement only.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.operating_point import fixed_operating_point
from frs.errors import FRSError
from frs.evaluation.embeddings import Face, FaceEmbedding
from frs.evaluation.machine import package_version
from frs.evaluation.systems import EvalSystem, Matrix

NAME = "face_recognition"
#: face_recognition's documented default tolerance (``compare_faces(..., tolerance=0.6)``).
TOLERANCE = 0.6
PIPELINE = "HOG detector (upsample 1), 5-point landmarks, dlib ResNet descriptor (128-d, 1 jitter)"


def import_face_recognition() -> Any:
    """face_recognition, imported without side effects on FRS. Its models package (0.3.0, 2017) finds its
    weights through ``pkg_resources``, which setuptools no longer ships: give it the one call it needs."""
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        shim = types.ModuleType("pkg_resources")

        def resource_filename(package: str, name: str) -> str:
            return str(importlib.resources.files(package) / name)

        shim.resource_filename = resource_filename  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    from PIL import ImageFile

    # face_recognition's import sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would make FRS accept
    # truncated uploads in the same process: put it back.
    accept_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    import face_recognition

    ImageFile.LOAD_TRUNCATED_IMAGES = accept_truncated
    return face_recognition


def load_rgb(data: bytes) -> npt.NDArray[np.uint8]:
    """The photo as face_recognition's own ``load_image_file`` reads it (Pillow, converted to RGB)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FRSError("invalid_image", f"face_recognition cannot read the image: {exc}") from exc


def distance_similarity(a: Matrix, b: Matrix) -> npt.NDArray[np.floating]:
    """``1 - Euclidean distance`` for every pair of rows (what ``face_distance`` computes, negated)."""
    left = np.asarray(a, dtype=np.float64)
    right = np.asarray(b, dtype=np.float64)
    squared = (left * left).sum(axis=1)[:, None] + (right * right).sum(axis=1)[None, :] - 2.0 * left @ right.T
    similarity: npt.NDArray[np.floating] = 1.0 - np.sqrt(np.maximum(squared, 0.0))
    return similarity


def face_recognition_system() -> EvalSystem:
    fr = import_face_recognition()

    def embed(path: Path) -> Sequence[FaceEmbedding]:
        rgb = load_rgb(path.read_bytes())
        locations = fr.face_locations(rgb)
        encodings = fr.face_encodings(rgb, locations)
        # Locations are (top, right, bottom, left).
        return [
            Face(
                bbox=(float(left), float(top), float(right), float(bottom)),
                embedding=np.asarray(vector, np.float32),
            )
            for (top, right, bottom, left), vector in zip(locations, encodings, strict=True)
        ]

    threshold = 1.0 - TOLERANCE
    return EvalSystem(
        name=NAME,
        label="face_recognition (dlib)",
        details={
            "face_recognition": package_version("face-recognition"),
            "dlib": package_version("dlib-bin", "dlib"),
            "face_recognition_models": package_version("face-recognition-models"),
            "pipeline": PIPELINE,
        },
        score=f"1 - Euclidean distance of the descriptors; a match when the distance is <= {TOLERANCE} "
        f"(similarity >= {threshold:.1f}), the library's documented tolerance",
        embed=embed,
        normalise=False,  # the distance is defined on the raw descriptors
        similarity=distance_similarity,
        identification_point=lambda faces: fixed_operating_point(
            threshold, gallery_size=faces, source="peer_default"
        ),
        verification_point=fixed_operating_point(threshold, kind="far", source="peer_default"),
    )
