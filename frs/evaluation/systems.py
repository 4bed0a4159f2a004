"""The systems ``frs eval`` measures: FRS with its pack, and peers, each with its own pipeline, score and
default operating points, so one protocol can run over all of them on the same images.

FRS's default operating points are the ones the service uses: with a calibration record in the pack
manifest, the threshold for ``target_fpir`` at the gallery's size (enrolled faces) for identification and
for ``target_far`` for verification; without one, the pack's fixed ``match_threshold`` for both; a threshold
given outright (``frs --threshold``) overrides both. Each point says which of these it is (``source``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.calibration import Calibration, load_pack_calibration
from frs.decision.operating_point import OperatingPoint
from frs.decision.policy import identify_point, verify_point
from frs.evaluation.embeddings import EmbedFn, FaceEmbedding
from frs.pipeline.analyzer import FaceAnalyzer

Matrix = npt.NDArray[np.float32]
#: ``similarity(a, b)`` -> ``(len(a), len(b))`` scores, higher meaning more alike.
SimilarityFn = Callable[[Matrix, Matrix], npt.NDArray[np.floating]]


def cosine(a: Matrix, b: Matrix) -> npt.NDArray[np.floating]:
    """Cosine similarity of unit vectors (the systems that use it normalise their vectors)."""
    scores: npt.NDArray[np.floating] = a @ b.T
    return scores


@dataclass(frozen=True)
class EvalSystem:
    """One system under test. ``name`` keys it in eval.json and names its plots."""

    name: str
    label: str  # for people: "FRS, pack open (YuNet + SFace fp32)"
    details: dict[str, Any]  # pack or library versions, for the record
    score: str  # how a score is made and when it is accepted
    embed: EmbedFn
    normalise: bool  # scale vectors to unit length before scoring (cosine systems)
    similarity: SimilarityFn
    identification_point: Callable[[int], OperatingPoint]  # enrolled faces -> the default 1:N point
    verification_point: OperatingPoint  # the default 1:1 point


def pack_calibration(analyzer: FaceAnalyzer) -> Calibration | None:
    """The calibration record in the analyzer's pack manifest (None: the pack has none yet)."""
    return load_pack_calibration(analyzer.manifest.path)


def frs_system(
    analyzer: FaceAnalyzer,
    *,
    target_fpir: float,
    target_far: float,
    explicit_threshold: float | None,
    calibration: Calibration | None,
) -> EvalSystem:
    """FRS as the service runs it with ``analyzer``'s pack (see the module docstring for the thresholds);
    ``calibration`` is the pack's record (:func:`pack_calibration`) or None."""
    manifest = analyzer.manifest
    fixed = manifest.recognizer.match_threshold

    # The service's own precedence (frs.decision.policy), so eval measures the points identify and verify use.
    def identification_point(faces: int) -> OperatingPoint:
        return identify_point(
            threshold=explicit_threshold,
            configured=None,
            target_fpir=target_fpir,
            gallery_faces=faces,
            calibration=calibration,
            pack_threshold=fixed,
        )

    verification = verify_point(
        threshold=explicit_threshold,
        configured=None,
        target_far=target_far,
        calibration=calibration,
        pack_threshold=fixed,
    )

    def embed(path: Path) -> Sequence[FaceEmbedding]:
        return analyzer.analyze(path.read_bytes()).faces

    return EvalSystem(
        name="frs",
        label=f"FRS, pack {manifest.name}",
        details={
            "pack": manifest.name,
            "dim": analyzer.pack.dim,
            "detector": manifest.detector.file,
            "landmarker": None if manifest.landmarker is None else manifest.landmarker.file,
            "recognizer": manifest.recognizer.file,
            "description": manifest.description,
            "calibration": None if calibration is None else {"dataset": calibration.dataset},
            "target_fpir": target_fpir,
            "target_far": target_far,
        },
        score="cosine similarity of the L2-normalised embeddings; a match when >= the threshold",
        embed=embed,
        normalise=True,
        similarity=cosine,
        identification_point=identification_point,
        verification_point=verification,
    )
