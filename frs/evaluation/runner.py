"""Run an evaluation: embed every image once, then measure identification and verification.

The face pipeline is injected as ``embed(path) -> faces``, so the runner measures whatever produces the
embeddings (the real analyzer in ``frs eval``, hand-made vectors in tests). Wiring the analyzer::

    analyzer = load_analyzer(Settings.from_env())
    result = evaluate_dataset(root, lambda p: analyzer.analyze(p.read_bytes()).faces,
                              threshold=analyzer.match_threshold, pack=analyzer.pack)

An ``FRSError`` raised by ``embed`` (say an undecodable file) marks that image as failed; other exceptions
are bugs and propagate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from frs.errors import FRSError
from frs.evaluation.dataset import DatasetSplit, load_split, read_pairs
from frs.evaluation.metrics import (
    DEFAULT_FAR_TARGETS,
    BestThreshold,
    EqualErrorRate,
    OpenSetMetrics,
    RatesAtThreshold,
    RocCurve,
    TarAtFar,
    best_threshold,
    equal_error_rate,
    open_set_metrics,
    rates_at_threshold,
    roc_curve,
    tar_at_far,
    top_k_accuracy,
)
from frs.packs.info import PackInfo

Vector = npt.NDArray[np.float32]


class FaceEmbedding(Protocol):
    """What the runner needs of one detected face; ``frs.pipeline``'s ``AnalyzedFace`` fits as is."""

    @property
    def bbox(self) -> Sequence[float]: ...  # x1, y1, x2, y2

    @property
    def embedding(self) -> npt.NDArray[Any] | None: ...  # None: detected but not embedded


@dataclass(frozen=True)
class Face:
    """A plain :class:`FaceEmbedding` for callers without the pipeline's type."""

    bbox: tuple[float, float, float, float]
    embedding: Vector


#: The faces found in one image.
ImageEmbeddings = Sequence[FaceEmbedding]
EmbedFn = Callable[[Path], ImageEmbeddings]


@dataclass
class ImageIssues:
    """Images that did not yield exactly one face. Paths are relative to the dataset (or CSV) folder."""

    no_face: list[str] = field(default_factory=list)  # left out of every metric
    multiple_faces: list[str] = field(default_factory=list)  # evaluated with the largest face
    failed: list[dict[str, str]] = field(default_factory=list)  # {"path", "code", "message"}; left out


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN: map them to null, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


@dataclass(frozen=True)
class IdentificationResult:
    """1:N search of probes against the gallery (identity score = max over its enrolled images)."""

    n_gallery_identities: int
    n_gallery_images: int
    n_known_probes: int
    n_unknown_probes: int
    top1: float | None  # over known probes; ties count against the probe
    top5: float | None
    open_set: OpenSetMetrics
    # Enrolled identities none of whose gallery images gave a face: their probes count as unknown.
    identities_without_gallery_face: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _finite(asdict(self))
        return data


@dataclass(frozen=True)
class VerificationResult:
    """1:1 comparison of image pairs; the raw scores are kept for plots but not serialised."""

    genuine: Vector
    impostor: Vector
    roc: RocCurve
    tar_at_far: tuple[tuple[float, TarAtFar | None], ...]  # (target FAR, result or None if unmeasurable)
    eer: EqualErrorRate
    best: BestThreshold
    at_threshold: RatesAtThreshold

    def to_dict(self, roc_points: int = 200) -> dict[str, Any]:
        roc = self.roc.thinned(roc_points)
        data = {
            "n_genuine": self.roc.n_genuine,
            "n_impostor": self.roc.n_impostor,
            "tar_at_far": [
                {"target_far": target, **(asdict(found) if found else {"tar": None, "unmeasurable": True})}
                for target, found in self.tar_at_far
            ],
            "eer": asdict(self.eer),
            "best_threshold": asdict(self.best),
            "at_threshold": asdict(self.at_threshold),
            "roc": {
                "exact_points": int(self.roc.thresholds.shape[0]),
                "thresholds": roc.thresholds.tolist(),
                "tar": roc.tar.tolist(),
                "far": roc.far.tolist(),
            },
        }
        result: dict[str, Any] = _finite(data)
        return result


@dataclass(frozen=True)
class EvalResult:
    """Everything one evaluation measured. ``to_dict()`` is JSON-ready."""

    mode: str  # "dataset" or "pairs"
    source: str
    threshold: float
    parameters: dict[str, Any]
    pack: PackInfo | None
    counts: dict[str, int]
    identification: IdentificationResult | None
    verification: VerificationResult | None
    issues: ImageIssues
    notes: tuple[str, ...] = ()  # why a section is missing, and similar caveats

    def to_dict(self) -> dict[str, Any]:
        data = {
            "mode": self.mode,
            "source": self.source,
            "threshold": self.threshold,
            "parameters": self.parameters,
            "pack": asdict(self.pack) if self.pack else None,
            "counts": self.counts,
            "identification": self.identification.to_dict() if self.identification else None,
            "verification": self.verification.to_dict() if self.verification else None,
            "issues": asdict(self.issues),
            "notes": list(self.notes),
        }
        result: dict[str, Any] = _finite(data)
        return result


# ------------------------------------------------------------------------------------------------- embedding


def _area(face: FaceEmbedding) -> float:
    x1, y1, x2, y2 = (float(v) for v in face.bbox)
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


class _EmbeddingCache:
    """Embeds each image once per run and records the images that did not give exactly one face."""

    def __init__(self, embed: EmbedFn, root: Path) -> None:
        self._embed = embed
        self._root = root
        self._vectors: dict[Path, Vector | None] = {}
        self.issues = ImageIssues()

    def display(self, path: Path) -> str:
        try:
            return path.relative_to(self._root).as_posix()
        except ValueError:
            return str(path)

    def compute(self, paths: Iterable[Path], *, progress: bool) -> None:
        todo = list(dict.fromkeys(p for p in paths if p not in self._vectors))
        for path in tqdm(todo, desc="embedding", unit="img", disable=not progress or not todo):
            self._vectors[path] = self._embed_one(path)

    def _embed_one(self, path: Path) -> Vector | None:
        try:
            faces = list(self._embed(path))
        except FRSError as exc:
            if exc.code == "no_face":
                self.issues.no_face.append(self.display(path))
            else:
                self.issues.failed.append(
                    {"path": self.display(path), "code": exc.code, "message": exc.message}
                )
            return None
        if not faces:
            self.issues.no_face.append(self.display(path))
            return None
        if len(faces) > 1:
            self.issues.multiple_faces.append(self.display(path))
        face = max(faces, key=_area)
        if face.embedding is None:
            self._invalid(path, "the face has no embedding")
            return None
        vector = np.asarray(face.embedding, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not math.isfinite(norm) or norm == 0.0:
            self._invalid(path, "zero or non-finite embedding")
            return None
        # Re-normalising is cheap and makes every score a cosine whatever the producer did.
        normalised: Vector = vector / np.float32(norm)
        return normalised

    def _invalid(self, path: Path, message: str) -> None:
        failure = {"path": self.display(path), "code": "invalid_embedding", "message": message}
        self.issues.failed.append(failure)

    def get(self, path: Path) -> Vector | None:
        return self._vectors[path]

    @property
    def n_embedded(self) -> int:
        return sum(vector is not None for vector in self._vectors.values())


# ------------------------------------------------------------------------------------------------ measuring


def verify(
    genuine: npt.ArrayLike,
    impostor: npt.ArrayLike,
    threshold: float,
    *,
    balanced: bool,
    far_targets: Sequence[float] = DEFAULT_FAR_TARGETS,
) -> VerificationResult:
    """All verification metrics from genuine and impostor scores (both non-empty)."""
    gen = np.asarray(genuine, dtype=np.float32).reshape(-1)
    imp = np.asarray(impostor, dtype=np.float32).reshape(-1)
    roc = roc_curve(gen, imp)
    return VerificationResult(
        genuine=gen,
        impostor=imp,
        roc=roc,
        tar_at_far=tuple((target, tar_at_far(roc, target)) for target in far_targets),
        eer=equal_error_rate(roc),
        best=best_threshold(roc, balanced=balanced),
        at_threshold=rates_at_threshold(gen, imp, threshold),
    )


def all_pair_scores(
    vectors: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], block: int = 512
) -> tuple[Vector, Vector]:
    """Cosine scores of every unordered pair of rows, split into (genuine, impostor) by label.

    Computed in row blocks so memory holds the scores, not an n x n matrix.
    """
    n = vectors.shape[0]
    genuine: list[Vector] = []
    impostor: list[Vector] = []
    columns = np.arange(n)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        scores = vectors[rows] @ vectors.T
        upper = columns[None, :] > rows[:, None]
        same = labels[rows][:, None] == labels[None, :]
        genuine.append(scores[upper & same])
        impostor.append(scores[upper & ~same])
    empty = np.zeros(0, dtype=np.float32)
    return (
        np.concatenate(genuine).astype(np.float32) if genuine else empty,
        np.concatenate(impostor).astype(np.float32) if impostor else empty,
    )


def _identify(
    split: DatasetSplit, cache: _EmbeddingCache, threshold: float
) -> tuple[IdentificationResult | None, list[str]]:
    enrolled: list[str] = []
    gallery_vectors: list[Vector] = []
    starts: list[int] = []
    without_face: list[str] = []
    for name, paths in split.gallery.items():
        vectors = [v for v in (cache.get(p) for p in paths) if v is not None]
        if not vectors:
            without_face.append(name)
            continue
        starts.append(len(gallery_vectors))
        enrolled.append(name)
        gallery_vectors.extend(vectors)
    probes = [(p.identity, v) for p in split.probes if (v := cache.get(p.path)) is not None]
    if not enrolled:
        return None, ["identification skipped: no gallery image gave a face"]
    if not probes:
        return None, ["identification skipped: no probe image gave a face (k leaves no probes?)"]

    column_of = {name: index for index, name in enumerate(enrolled)}
    true_index = np.array([column_of.get(identity, -1) for identity, _ in probes], dtype=np.int64)
    image_scores = np.stack([v for _, v in probes]) @ np.stack(gallery_vectors).T
    # Gallery columns are grouped by identity, so a reduceat over group starts gives each identity's max.
    scores = np.maximum.reduceat(image_scores, np.array(starts), axis=1).astype(np.float64)
    known = true_index >= 0
    true_scores = np.where(known, scores[np.arange(len(probes)), np.maximum(true_index, 0)], np.inf)
    # Same tie rule as top_k_accuracy: top-1 only if no other identity scores as high.
    top1_correct = known & ((scores >= true_scores[:, None]).sum(axis=1) == 1)
    result = IdentificationResult(
        n_gallery_identities=len(enrolled),
        n_gallery_images=len(gallery_vectors),
        n_known_probes=int(known.sum()),
        n_unknown_probes=int((~known).sum()),
        top1=top_k_accuracy(scores, true_index, 1),
        top5=top_k_accuracy(scores, true_index, 5),
        open_set=open_set_metrics(scores.max(axis=1), known, top1_correct, threshold),
        identities_without_gallery_face=tuple(without_face),
    )
    return result, []


def evaluate_dataset(
    dataset_dir: Path,
    embed: EmbedFn,
    *,
    k: int = 1,
    unknown_share: float = 0.2,
    seed: int = 0,
    threshold: float,
    progress: bool = True,
    pack: PackInfo | None = None,
) -> EvalResult:
    """Evaluate on ``dataset_dir/<identity>/<images>``.

    Identification: the first ``k`` images of each enrolled identity form the gallery, the rest are probes;
    ``unknown_share`` of the identities (chosen by ``seed``) are never enrolled. Reports Top-1/Top-5 over
    probes of enrolled identities and open-set metrics at ``threshold``. Verification: every unordered pair of
    images with a face (gallery and probes alike), genuine when both show the same identity; the best
    threshold maximises balanced accuracy because impostor pairs vastly outnumber genuine ones.
    """
    root = Path(dataset_dir)
    split = load_split(root, k=k, unknown_share=unknown_share, seed=seed)
    images = split.all_images()
    cache = _EmbeddingCache(embed, root)
    cache.compute((image.path for image in images), progress=progress)

    identification, notes = _identify(split, cache, threshold)

    with_face = [(image.identity, v) for image in images if (v := cache.get(image.path)) is not None]
    label_of = {name: index for index, name in enumerate(sorted({name for name, _ in with_face}))}
    verification = None
    if len(with_face) >= 2:
        labels = np.array([label_of[name] for name, _ in with_face], dtype=np.int64)
        genuine, impostor = all_pair_scores(np.stack([v for _, v in with_face]), labels)
        if genuine.size and impostor.size:
            verification = verify(genuine, impostor, threshold, balanced=True)
    if verification is None:
        notes.append(
            "verification skipped: needs an identity with two images with a face, and two identities"
        )

    counts = {
        "identities": len(split.gallery) + len(split.unknown_identities),
        "unknown_identities": len(split.unknown_identities),
        "gallery_images": sum(len(paths) for paths in split.gallery.values()),
        "probe_images": len(split.probes),
        "images": len(images),
        "embedded_images": cache.n_embedded,
    }
    return EvalResult(
        mode="dataset",
        source=str(root),
        threshold=float(threshold),
        parameters={"k": k, "unknown_share": unknown_share, "seed": seed},
        pack=pack,
        counts=counts,
        identification=identification,
        verification=verification,
        issues=cache.issues,
        notes=tuple(notes),
    )


def evaluate_pairs(
    csv_path: Path,
    embed: EmbedFn,
    threshold: float,
    *,
    progress: bool = True,
    pack: PackInfo | None = None,
) -> EvalResult:
    """Verification on the pairs listed in a CSV (columns ``a,b,same``; see ``read_pairs``).

    Pairs with an image that gave no face are skipped and counted. The best threshold maximises plain
    accuracy, the usual protocol for curated (balanced) pair lists.
    """
    csv_path = Path(csv_path)
    pairs = read_pairs(csv_path)
    cache = _EmbeddingCache(embed, csv_path.parent)
    cache.compute((path for pair in pairs for path in (pair.a, pair.b)), progress=progress)

    genuine: list[float] = []
    impostor: list[float] = []
    skipped = 0
    for pair in pairs:
        a, b = cache.get(pair.a), cache.get(pair.b)
        if a is None or b is None:
            skipped += 1
            continue
        (genuine if pair.same else impostor).append(float(a @ b))

    notes: list[str] = []
    verification = None
    if genuine and impostor:
        verification = verify(genuine, impostor, threshold, balanced=False)
    else:
        notes.append("verification skipped: needs at least one usable same and one usable different pair")
    counts = {
        "pairs": len(pairs),
        "genuine_pairs": len(genuine),
        "impostor_pairs": len(impostor),
        "skipped_pairs": skipped,
        "images": len({path for pair in pairs for path in (pair.a, pair.b)}),
        "embedded_images": cache.n_embedded,
    }
    return EvalResult(
        mode="pairs",
        source=str(csv_path),
        threshold=float(threshold),
        parameters={},
        pack=pack,
        counts=counts,
        identification=None,
        verification=verification,
        issues=cache.issues,
        notes=tuple(notes),
    )
