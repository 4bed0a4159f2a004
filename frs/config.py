"""Runtime settings, read once from the environment.

Every knob has a default that works on a laptop and in Lambda; README.md lists them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from frs.errors import FRSError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise FRSError("bad_request", f"{name} must be a number, got {raw!r}") from exc


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise FRSError("bad_request", f"{name} must be an integer, got {raw!r}") from exc


def default_gallery_uri() -> str:
    # Lambda's only writable disk is /tmp; elsewhere keep galleries next to the working directory.
    return "/tmp/frs/galleries" if _in_lambda() else str(Path(".frs/galleries").resolve())


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline and gallery need to know about their environment."""

    pack: str = "embedded"
    models_dir: Path = field(default_factory=lambda: REPO_ROOT / "models")
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    det_threshold: float | None = None  # None: the pack's detector score threshold
    det_size: int | None = None  # None: the pack's detector input size
    min_face: int = 20  # pixels, shorter side of the detection box
    match_threshold: float | None = None  # None: the pack's recommended threshold
    max_pixels: int = 40_000_000  # decompression-bomb guard, checked before decoding
    max_side: int = 4096  # larger images are scaled down on decode (memory bound)
    gallery_uri: str = field(default_factory=default_gallery_uri)
    sync_ttl: float = 5.0
    pg_ef_search: int = 400  # pgvector HNSW candidates per query: recall vs latency (see pgvector_search)
    cache_dir: Path = field(
        default_factory=lambda: Path("/tmp/frs/cache") if _in_lambda() else REPO_ROOT / ".cache"
    )

    @classmethod
    def from_env(cls) -> Settings:
        base = cls()
        models_dir = os.environ.get("FRS_MODELS_DIR")
        cache_dir = os.environ.get("FRS_CACHE_DIR")
        det_size = os.environ.get("FRS_DET_SIZE")
        return replace(
            base,
            pack=os.environ.get("FRS_PACK") or base.pack,
            models_dir=Path(models_dir) if models_dir else base.models_dir,
            threads=_env_int("FRS_THREADS", base.threads),
            det_threshold=_env_float("FRS_DET_THRESHOLD", None),
            det_size=int(det_size) if det_size else None,
            min_face=_env_int("FRS_MIN_FACE", base.min_face),
            match_threshold=_env_float("FRS_MATCH_THRESHOLD", None),
            max_pixels=_env_int("FRS_MAX_PIXELS", base.max_pixels),
            max_side=_env_int("FRS_MAX_SIDE", base.max_side),
            gallery_uri=os.environ.get("FRS_GALLERY_URI") or base.gallery_uri,
            sync_ttl=_env_float("FRS_SYNC_TTL", base.sync_ttl) or 0.0,
            pg_ef_search=_env_int("FRS_PG_EF_SEARCH", base.pg_ef_search),
            cache_dir=Path(cache_dir) if cache_dir else base.cache_dir,
        )
