"""Run an evaluation: embed every image once per system, then measure open-set identification (the FRVT
protocol of :mod:`frs.evaluation.protocol`) and verification, the same way for every system.

A system (:class:`frs.evaluation.systems.EvalSystem`) brings its own face pipeline, score and default
operating points, so the runner measures FRS and its peers alike (hand-made vectors in tests).
``EvalResult.to_dict()`` is eval.json; its schema is in the README ("Measured accuracy").
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.operating_point import OperatingPoint
from frs.evaluation.dataset import read_pairs, scan_dataset
from frs.evaluation.embeddings import FaceRule, ImageVectors, embed_images
from frs.evaluation.folds import KFoldAccuracy, kfold_accuracy
from frs.evaluation.machine import machine_info, utc_now
from frs.evaluation.metrics import (
    DEFAULT_FAR_TARGETS,
    EqualErrorRate,
    RocCurve,
    equal_error_rate,
    roc_curve,
    threshold_at_rate,
)
from frs.evaluation.open_set import OpenSetRates, SearchScores, fnir_at_fpir
from frs.evaluation.protocol import (
    DEFAULT_DRAWS,
    DEFAULT_GALLERY_SIZES,
    DEFAULT_MATED_CAP,
    GalleryDraw,
    candidates,
    draw_galleries,
    largest_gallery,
    resolve_gallery_sizes,
)
from frs.evaluation.rates import Rate
from frs.evaluation.systems import EvalSystem, SimilarityFn

SCHEMA = "frs-eval/2"
#: The FPIRs at which FNIR is reported (NIST FRVT's usual pair).
DEFAULT_FPIR_TARGETS: tuple[float, ...] = (1e-2, 1e-3)
#: Points kept of each curve in eval.json (exact points, spread on a log scale).
CURVE_POINTS = 200
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Protocol:
    gallery_sizes: tuple[int | str, ...] = DEFAULT_GALLERY_SIZES
    draws: int = DEFAULT_DRAWS
    seed: int = 0
    fpir_targets: tuple[float, ...] = DEFAULT_FPIR_TARGETS
    far_targets: tuple[float, ...] = DEFAULT_FAR_TARGETS
    photos: int = 1  # enrolled photos per person
    mated_cap: int | None = DEFAULT_MATED_CAP  # mated searches per person (None: every other photo)
    face_rule: FaceRule = "largest"  # the face a photo with several stands for (frs.evaluation.embeddings)


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN: map them to null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _curve(roc: RocCurve, *, det: bool) -> dict[str, Any]:
    thin = roc.thinned(CURVE_POINTS)
    if det:
        return {
            "thresholds": thin.thresholds.tolist(),
            "fpir": thin.far.tolist(),
            "fnir": (1 - thin.tar).tolist(),
        }
    return {"thresholds": thin.thresholds.tolist(), "far": thin.far.tolist(), "tar": thin.tar.tolist()}


def _rates(rates: OpenSetRates) -> dict[str, Any]:
    return {
        "threshold": rates.threshold,
        "fnir": rates.fnir.to_dict(),
        "fpir": rates.fpir.to_dict(),
        "named_wrongly": rates.named_wrongly,
    }


# --------------------------------------------------------------------------------------------- identification


@dataclass(frozen=True)
class GallerySizeResult:
    """Every draw of one gallery size, pooled. ``scores`` feed the DET plot and are not serialised whole."""

    gallery_size: int
    draws: int
    enrolled_faces: tuple[int, int]  # min and max over draws (less than gallery_size if enrolment failed)
    distinct_photos: dict[str, int]  # "enrolled", "mated", "nonmated": photos behind the pooled searches
    scores: SearchScores
    rank_one: Rate  # mated searches whose mate is rank 1, whatever the score (closed-set identification)
    at_fpir: tuple[tuple[float, OpenSetRates | None], ...]
    point: OperatingPoint  # the default point for gallery_size enrolled faces
    at_point: OpenSetRates  # pooled over draws, each at the point for its own enrolled faces
    thresholds_used: tuple[float, float]
    # The same searches at the threshold whose FPIR is the point's target (FRVT's "oracle").
    oracle: OpenSetRates | None = None

    def calibration_error(self) -> dict[str, Any]:
        """How far the default point is from what it promises, FRVT style: the realised FPIR over the target,
        and its FNIR against the oracle's (the same searches at the threshold whose FPIR is the target)."""
        target = self.point.target
        if target is None or self.point.kind != "fpir":
            return {}
        fpir, fnir = self.at_point.fpir.value, self.at_point.fnir.value
        oracle = None if self.oracle is None else self.oracle.fnir.value
        return {
            "fpir_over_target": None if fpir is None else fpir / target,
            "oracle_at_target": None if self.oracle is None else _rates(self.oracle),
            "fnir_gap": None if fnir is None or oracle is None else fnir - oracle,
        }

    @property
    def has_curve(self) -> bool:
        """A DET curve needs mated and non-mated searches."""
        return bool(self.scores.mated.size and self.scores.nonmated.size)

    def to_dict(self) -> dict[str, Any]:
        fpir_rows: list[dict[str, Any]] = []
        for target, found in self.at_fpir:
            if found is None:
                needed = math.ceil(1 / target)
                reason = (
                    f"needs {needed} distinct non-mated photos, has {self.distinct_photos['nonmated']}"
                    if self.distinct_photos["nonmated"] < needed
                    else "no mated searches"
                )
                fpir_rows.append({"target_fpir": target, "measurable": False, "reason": reason})
            else:
                fpir_rows.append({"target_fpir": target, "measurable": True, **_rates(found)})
        return {
            "gallery_size": self.gallery_size,
            "draws": self.draws,
            "enrolled_faces": {"min": self.enrolled_faces[0], "max": self.enrolled_faces[1]},
            "searches": {"mated": int(self.scores.mated.size), "nonmated": int(self.scores.nonmated.size)},
            "distinct_photos": self.distinct_photos,
            "rank_one_identification": self.rank_one.to_dict(),
            "fnir_at_fpir": fpir_rows,
            "default_operating_point": {
                **self.point.to_dict(),
                "thresholds_used": list(self.thresholds_used),
                **{key: value for key, value in _rates(self.at_point).items() if key != "threshold"},
                **self.calibration_error(),
            },
            "det": _curve(self.scores.det(), det=True) if self.has_curve else None,
        }


def _stack(vectors: Sequence[npt.NDArray[np.float32]], dim: int) -> npt.NDArray[np.float32]:
    return np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)


def search_draw(
    similarity: SimilarityFn, images: ImageVectors, draw: GalleryDraw, dim: int
) -> tuple[SearchScores, int]:
    """One draw's searches, and how many enrolled photos gave a face. An identity scores as its best
    enrolled face, as FRS's gallery search does."""
    columns: dict[str, int] = {}
    gallery: list[npt.NDArray[np.float32]] = []
    owner: list[int] = []
    for name, path in draw.enrolled:
        vector = images.get(path)
        if vector is not None:
            owner.append(columns.setdefault(name, len(columns)))
            gallery.append(vector)
    order = np.argsort(np.array(owner, dtype=np.int64), kind="stable")
    matrix = _stack([gallery[i] for i in order], dim)  # an identity's faces side by side
    starts = np.searchsorted(np.array(owner, dtype=np.int64)[order], np.arange(len(columns)))

    def by_identity(probes: npt.NDArray[np.float32]) -> FloatArray:
        scores = np.asarray(similarity(probes, matrix), dtype=np.float64)
        if not columns or not scores.shape[0]:
            return np.zeros((scores.shape[0], len(columns)))
        return np.maximum.reduceat(scores, starts, axis=1)

    mated = [(columns.get(name, -1), v) for name, path in draw.mated if (v := images.get(path)) is not None]
    nonmated = [v for path in draw.nonmated if (v := images.get(path)) is not None]
    scores = SearchScores.of(
        by_identity(_stack([v for _, v in mated], dim)),
        np.array([column for column, _ in mated], dtype=np.int64),
        by_identity(_stack(nonmated, dim)),
    )
    failed = SearchScores.failed(len(draw.mated) - len(mated), len(draw.nonmated) - len(nonmated))
    return scores + failed, len(gallery)


def _gallery_size(
    system: EvalSystem, images: ImageVectors, draws: list[GalleryDraw], targets: Sequence[float], dim: int
) -> GallerySizeResult:
    size = draws[0].gallery_size
    pooled: SearchScores | None = None
    at_point: OpenSetRates | None = None
    faces_per_draw: list[int] = []
    thresholds: list[float] = []
    for draw in draws:
        scores, faces = search_draw(system.similarity, images, draw, dim)
        threshold = system.identification_point(max(1, faces)).threshold
        rates = scores.at(threshold)
        pooled = scores if pooled is None else pooled + scores
        at_point = rates if at_point is None else _pool(at_point, rates)
        faces_per_draw.append(faces)
        thresholds.append(threshold)
    assert pooled is not None and at_point is not None  # draws is never empty
    point = system.identification_point(size)
    distinct = {
        "enrolled": len({path for draw in draws for _, path in draw.enrolled}),
        "mated": len({path for draw in draws for _, path in draw.mated}),
        "nonmated": len({path for draw in draws for path in draw.nonmated}),
    }
    return GallerySizeResult(
        gallery_size=size,
        draws=len(draws),
        enrolled_faces=(min(faces_per_draw), max(faces_per_draw)),
        distinct_photos=distinct,
        scores=pooled,
        rank_one=Rate(int(np.isfinite(pooled.mated).sum()), int(pooled.mated.size)),
        at_fpir=tuple(
            (target, fnir_at_fpir(pooled, target, distinct_nonmated=distinct["nonmated"]))
            for target in targets
        ),
        point=point,
        at_point=at_point,
        thresholds_used=(min(thresholds), max(thresholds)),
        oracle=None
        if point.target is None
        else fnir_at_fpir(pooled, point.target, distinct_nonmated=distinct["nonmated"]),
    )


def _pool(a: OpenSetRates, b: OpenSetRates) -> OpenSetRates:
    return OpenSetRates(a.threshold, a.fnir + b.fnir, a.fpir + b.fpir, a.named_wrongly + b.named_wrongly)


# ----------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class VerificationResult:
    """1:1 comparisons; ``genuine``/``impostor`` (``-inf`` for a pair with an image that gave no face) feed
    the plots and are not serialised."""

    genuine: FloatArray
    impostor: FloatArray
    failed_pairs: dict[str, int]  # "genuine", "impostor": pairs scored -inf because an image had no face
    roc: RocCurve
    tar_at_far: tuple[tuple[float, tuple[float, Rate, Rate] | None], ...]  # (threshold, TAR, FAR)
    eer: EqualErrorRate
    point: OperatingPoint
    at_point: tuple[Rate, Rate]  # TAR, FAR
    kfold: KFoldAccuracy | None = None  # pairs with a fold column: LFW-style accuracy

    def to_dict(self) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        for target, found in self.tar_at_far:
            if found is None:
                reason = f"needs {math.ceil(1 / target)} impostor pairs, has {self.roc.n_impostor}"
                rows.append({"target_far": target, "measurable": False, "reason": reason})
            else:
                threshold, tar, far = found
                rows.append(
                    {
                        "target_far": target,
                        "measurable": True,
                        "threshold": threshold,
                        "tar": tar.to_dict(),
                        "far": far.to_dict(),
                    }
                )
        return {
            "genuine_pairs": self.roc.n_genuine,
            "impostor_pairs": self.roc.n_impostor,
            "failed_pairs": self.failed_pairs,
            "tar_at_far": rows,
            "eer": {"rate": self.eer.rate, "threshold": self.eer.threshold},
            "default_operating_point": {
                **self.point.to_dict(),
                "tar": self.at_point[0].to_dict(),
                "far": self.at_point[1].to_dict(),
            },
            "roc": _curve(self.roc, det=False),
            "kfold_accuracy": self.kfold.to_dict() if self.kfold else None,
        }


def _accepted(scores: FloatArray, threshold: float) -> Rate:
    return Rate(int((scores >= threshold).sum()), int(scores.size))


def verify(
    genuine: npt.ArrayLike,
    impostor: npt.ArrayLike,
    point: OperatingPoint,
    *,
    far_targets: Sequence[float] = DEFAULT_FAR_TARGETS,
    failed_pairs: Mapping[str, int] | None = None,
) -> VerificationResult:
    """All verification metrics from genuine and impostor scores (both non-empty)."""
    gen = np.asarray(genuine, dtype=np.float64).reshape(-1)
    imp = np.asarray(impostor, dtype=np.float64).reshape(-1)
    roc = roc_curve(gen, imp)
    found: list[tuple[float, tuple[float, Rate, Rate] | None]] = []
    for target in far_targets:
        at = threshold_at_rate(imp, target)
        rates = None if at is None else (at, _accepted(gen, at), _accepted(imp, at))
        found.append((target, rates))
    threshold = point.threshold
    return VerificationResult(
        genuine=gen,
        impostor=imp,
        failed_pairs=dict(failed_pairs or {"genuine": 0, "impostor": 0}),
        roc=roc,
        tar_at_far=tuple(found),
        eer=equal_error_rate(roc),
        point=point,
        at_point=(
            Rate(int((gen >= threshold).sum()), gen.size),
            Rate(int((imp >= threshold).sum()), imp.size),
        ),
    )


def all_pair_scores(
    system: EvalSystem, vectors: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], block: int = 512
) -> tuple[FloatArray, FloatArray]:
    """Scores of every unordered pair of rows, split into (genuine, impostor) by label, in row blocks so
    memory holds the scores, not an n x n matrix."""
    n = vectors.shape[0]
    genuine: list[FloatArray] = []
    impostor: list[FloatArray] = []
    columns = np.arange(n)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        scores = np.asarray(system.similarity(vectors[rows], vectors), dtype=np.float64)
        upper = columns[None, :] > rows[:, None]
        same = labels[rows][:, None] == labels[None, :]
        genuine.append(scores[upper & same])
        impostor.append(scores[upper & ~same])
    empty = np.zeros(0, dtype=np.float64)
    return (np.concatenate(genuine) if genuine else empty, np.concatenate(impostor) if impostor else empty)


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def _verify_dataset(
    system: EvalSystem, images: ImageVectors, identities: Mapping[str, Sequence[Path]], protocol: Protocol
) -> VerificationResult | None:
    """Every pair of photos in the dataset; a pair with a photo that gave no face is a rejection."""
    embedded = [
        (name, v) for name, paths in identities.items() for p in paths if (v := images.get(p)) is not None
    ]
    genuine_all = sum(_pairs(len(paths)) for paths in identities.values())
    impostor_all = _pairs(sum(len(paths) for paths in identities.values())) - genuine_all
    if genuine_all == 0 or impostor_all == 0:
        return None
    genuine, impostor = np.zeros(0), np.zeros(0)
    if embedded:
        index = {name: i for i, name in enumerate(identities)}
        labels = np.array([index[name] for name, _ in embedded], dtype=np.int64)
        genuine, impostor = all_pair_scores(system, np.stack([v for _, v in embedded]), labels)
    failed = {"genuine": genuine_all - genuine.size, "impostor": impostor_all - impostor.size}
    return verify(
        np.concatenate([genuine, np.full(failed["genuine"], -np.inf)]),
        np.concatenate([impostor, np.full(failed["impostor"], -np.inf)]),
        system.verification_point,
        far_targets=protocol.far_targets,
        failed_pairs=failed,
    )


# ---------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SystemResult:
    system: EvalSystem
    images: ImageVectors
    identification: tuple[GallerySizeResult, ...] | None
    skipped_gallery_sizes: tuple[int, ...]
    verification: VerificationResult | None

    def to_dict(self) -> dict[str, Any]:
        issues = self.images.issues
        return {
            "name": self.system.name,
            "label": self.system.label,
            "details": self.system.details,
            "score": self.system.score,
            "images": {
                "total": len(self.images.vectors),
                "embedded": self.images.n_embedded,
                "no_face": issues.no_face,
                "multiple_faces": issues.multiple_faces,
                "failed": issues.failed,
            },
            "identification": None
            if self.identification is None
            else {
                "gallery_sizes": [size.to_dict() for size in self.identification],
                "skipped_gallery_sizes": list(self.skipped_gallery_sizes),
            },
            "verification": self.verification.to_dict() if self.verification else None,
        }


@dataclass(frozen=True)
class EvalResult:
    """Everything one evaluation measured. ``to_dict()`` is JSON-ready (eval.json, without its plots)."""

    mode: str  # "dataset" or "pairs"
    dataset: dict[str, Any]
    protocol: dict[str, Any]
    systems: tuple[SystemResult, ...]
    measured_at: str
    duration_s: float
    machine: dict[str, Any]
    command: str
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        data = {
            "schema": SCHEMA,
            "mode": self.mode,
            "measured_at": self.measured_at,
            "duration_s": self.duration_s,
            "command": self.command,
            "machine": self.machine,
            "dataset": self.dataset,
            "protocol": self.protocol,
            "systems": [system.to_dict() for system in self.systems],
            "notes": list(self.notes),
        }
        result: dict[str, Any] = _finite(data)
        return result


def _dim(images: ImageVectors) -> int:
    return next((v.shape[0] for v in images.vectors.values() if v is not None), 1)


def evaluate_dataset(
    dataset_dir: Path,
    systems: Sequence[EvalSystem],
    *,
    protocol: Protocol | None = None,
    command: str = "",
    progress: bool = True,
) -> EvalResult:
    """Open-set identification and verification of every system on ``dataset_dir/<identity>/<images>``."""
    protocol = protocol or Protocol()
    started, clock = utc_now(), time.perf_counter()
    machine = machine_info()
    root = Path(dataset_dir)
    identities = {name: tuple(paths) for name, paths in scan_dataset(root).items()}
    enrollable = candidates(identities, protocol.photos)
    largest = largest_gallery(identities, protocol.photos)
    sizes, skipped = resolve_gallery_sizes(protocol.gallery_sizes, largest, len(enrollable))
    notes: list[str] = []
    if skipped:
        notes.append(
            f"gallery sizes {', '.join(map(str, skipped))} skipped: the dataset holds galleries of at most "
            f"{largest} ({len(enrollable)} identities have {protocol.photos + 1} or more photos)"
        )
    draws = {
        size: draw_galleries(
            identities,
            size,
            protocol.draws,
            protocol.seed,
            photos=protocol.photos,
            mated_cap=protocol.mated_cap,
        )
        for size in sizes
    }
    every_image = [path for paths in identities.values() for path in paths]
    results = []
    for system in systems:
        images = embed_images(
            every_image,
            system.embed,
            root,
            normalise=system.normalise,
            progress=progress,
            label=system.name,
            face_rule=protocol.face_rule,
        )
        dim = _dim(images)
        identification = tuple(
            _gallery_size(system, images, draws[size], protocol.fpir_targets, dim) for size in sizes
        )
        results.append(
            SystemResult(
                system=system,
                images=images,
                identification=identification if sizes else None,
                skipped_gallery_sizes=tuple(skipped),
                verification=_verify_dataset(system, images, identities, protocol),
            )
        )
    if not sizes:
        notes.append(f"identification skipped: no identity has {protocol.photos + 1} or more photos")
    dataset = {
        "source": str(root),
        "name": root.resolve().name,
        "identities": len(identities),
        "images": len(every_image),
        "identities_with_two_or_more_photos": len(enrollable),
        "photos_of_those_identities": sum(len(identities[name]) for name in enrollable),
        "single_photo_identities": len(identities) - len(enrollable),
    }
    return EvalResult(
        mode="dataset",
        dataset=dataset,
        protocol={
            "gallery_sizes": sizes,
            "draws": protocol.draws,
            "seed": protocol.seed,
            "fpir_targets": list(protocol.fpir_targets),
            "far_targets": list(protocol.far_targets),
            "photos_per_person": protocol.photos,
            "mated_cap": protocol.mated_cap,
            "face_rule": protocol.face_rule,
            "rank": 1,
            "interval": "Wilson score, 95%",
        },
        systems=tuple(results),
        measured_at=started,
        duration_s=round(time.perf_counter() - clock, 1),
        machine=machine,
        command=command,
        notes=tuple(notes),
    )


def evaluate_pairs(
    csv_path: Path,
    systems: Sequence[EvalSystem],
    *,
    far_targets: Sequence[float] = DEFAULT_FAR_TARGETS,
    face_rule: FaceRule = "largest",
    command: str = "",
    progress: bool = True,
) -> EvalResult:
    """Verification on the pairs of a CSV (columns ``a,b,same``; see ``read_pairs``). A pair with an image
    that gave no face counts as a rejection (a false reject when ``same``)."""
    started, clock = utc_now(), time.perf_counter()
    machine = machine_info()
    csv_path = Path(csv_path)
    pairs = read_pairs(csv_path)
    results = []
    for system in systems:
        images = embed_images(
            (path for pair in pairs for path in (pair.a, pair.b)),
            system.embed,
            csv_path.parent,
            normalise=system.normalise,
            progress=progress,
            label=system.name,
            face_rule=face_rule,
        )
        scores: list[float] = []
        failed = {"genuine": 0, "impostor": 0}
        for pair in pairs:
            a, b = images.get(pair.a), images.get(pair.b)
            if a is None or b is None:
                failed["genuine" if pair.same else "impostor"] += 1
                scores.append(-math.inf)
            else:
                scores.append(float(system.similarity(a[None], b[None])[0, 0]))
        genuine = [score for score, pair in zip(scores, pairs, strict=True) if pair.same]
        impostor = [score for score, pair in zip(scores, pairs, strict=True) if not pair.same]
        verification = None
        if genuine and impostor:
            verification = verify(
                genuine, impostor, system.verification_point, far_targets=far_targets, failed_pairs=failed
            )
            if all(pair.fold is not None for pair in pairs):
                kfold = kfold_accuracy(scores, [p.same for p in pairs], [str(p.fold) for p in pairs])
                verification = replace(verification, kfold=kfold)
        results.append(SystemResult(system, images, None, (), verification))
    same = sum(pair.same for pair in pairs)
    notes = (
        [] if same and same < len(pairs) else ["verification needs at least one same and one different pair"]
    )
    folds = {pair.fold for pair in pairs}
    if None not in folds and len(folds) < 2:
        notes.append("k-fold accuracy needs at least two folds")
    return EvalResult(
        mode="pairs",
        dataset={
            "source": str(csv_path),
            "name": csv_path.name,
            "pairs": len(pairs),
            "genuine_pairs": same,
            "impostor_pairs": len(pairs) - same,
            "images": len({path for pair in pairs for path in (pair.a, pair.b)}),
            "folds": None if None in folds else len(folds),
        },
        protocol={"far_targets": list(far_targets), "face_rule": face_rule, "interval": "Wilson score, 95%"},
        systems=tuple(results),
        measured_at=started,
        duration_s=round(time.perf_counter() - clock, 1),
        machine=machine,
        command=command,
        notes=tuple(notes),
    )
