"""Runtime settings: every environment variable FRS reads is read here, once, into one ``Settings`` object.

``Settings()`` holds the defaults (they work on a laptop and in Lambda); ``Settings.from_env()`` reads the
environment, and is called once per process: by ``handler.py`` during Lambda INIT and by the CLI at start.
Everything else receives the object (or the values it needs) explicitly; README.md lists every variable.

A value that cannot be parsed or makes no sense raises ``FRSError('misconfigured')`` whose message names the
variable. That is the operator's mistake, never the caller's: HTTP 500, CLI exit 1, and in Lambda it fails
INIT (reported to the Runtime API's init/error) instead of failing every request. ``Settings(...)`` built in
code is checked the same way.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from frs.errors import FRSError

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "us-east-1"


def _in_lambda() -> bool:
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


def default_gallery_uri() -> str:
    # Lambda's only writable disk is /tmp; elsewhere keep galleries next to the working directory.
    return "/tmp/frs/galleries" if _in_lambda() else str(Path(".frs/galleries").resolve())


def _default_cache_dir() -> Path:
    return Path("/tmp/frs/cache") if _in_lambda() else REPO_ROOT / ".cache"


@dataclass(frozen=True)
class Rule:
    """What a setting must be: ``check(value)`` is true for a sensible value; ``expect`` says what that is."""

    check: Callable[[Any], bool]
    expect: str

    def problem(self, value: Any) -> str | None:
        """None if ``value`` is fine, else what it should have been."""
        return None if value is None or self.check(value) else f"must be {self.expect}"


def _pack_name(value: str) -> bool:
    return bool(value) and "/" not in value and not value.startswith(".")


def _memory_size(value: str) -> bool:
    """A PostgreSQL memory size (``maintenance_work_mem`` units), e.g. ``512MB`` or ``2GB``."""
    return re.fullmatch(r"[1-9][0-9]*(kB|MB|GB|TB)", value) is not None


def _seconds(value: float) -> bool:
    return 0 < value < 3600


#: The longest alert cooldown: alert-state objects may expire a day after they were written (template.yaml).
MAX_ALERT_COOLDOWN = 86_400


def _outside_trigger(uri: str) -> bool:
    """A results / alert-state location camera events can never come from: ``s3://bucket[/prefix]`` or a
    local directory, none of whose path segments is ``cameras`` (``cameras/`` keys invoke the function)."""
    if uri.startswith("s3://"):
        bucket, _, path = uri[len("s3://") :].partition("/")
        if not bucket:
            return False
    elif "://" in uri and not uri.startswith("file://"):
        return False
    else:
        path = uri.removeprefix("file://")
    return bool(uri) and "cameras" not in path.split("/")


def _rate(value: float) -> bool:
    return 0 < value < 1


#: The quality filter's words (``frs.pipeline.quality.FILTER_LEVELS``; the settings sit below the pipeline).
QUALITY_FILTERS = ("none", "low", "medium", "high")
#: The illumination step's modes (``frs.pipeline.illumination.MODES``).
ILLUMINATION_MODES = ("off", "detect")
_FILTER_RULE = Rule(lambda v: v in QUALITY_FILTERS, "one of " + ", ".join(QUALITY_FILTERS))


#: field -> (environment variable, rule). The rules are shared with the CLI options that set the same fields.
RULES: dict[str, tuple[str, Rule]] = {
    "pack": ("FRS_PACK", Rule(_pack_name, "a pack name (no '/', not starting with '.')")),
    "threads": ("FRS_THREADS", Rule(lambda v: v >= 1, "an integer >= 1")),
    "det_threshold": (
        "FRS_DET_THRESHOLD",
        Rule(lambda v: 0 < v <= 1, "a number greater than 0 and at most 1"),
    ),
    "det_size": (
        "FRS_DET_SIZE",
        Rule(lambda v: 32 <= v <= 4096 and v % 32 == 0, "a multiple of 32 from 32 to 4096"),
    ),
    "illumination": ("FRS_ILLUMINATION", Rule(lambda v: v in ILLUMINATION_MODES, "off or detect")),
    "min_face": ("FRS_MIN_FACE", Rule(lambda v: v >= 0, "an integer >= 0 (pixels)")),
    "match_threshold": ("FRS_MATCH_THRESHOLD", Rule(lambda v: -1 <= v <= 1, "a number from -1 to 1")),
    "target_fpir": ("FRS_TARGET_FPIR", Rule(_rate, "a number greater than 0 and less than 1")),
    "target_far": ("FRS_TARGET_FAR", Rule(_rate, "a number greater than 0 and less than 1")),
    "add_quality_filter": ("FRS_ADD_QUALITY_FILTER", _FILTER_RULE),
    "identify_quality_filter": ("FRS_IDENTIFY_QUALITY_FILTER", _FILTER_RULE),
    "max_pixels": ("FRS_MAX_PIXELS", Rule(lambda v: v >= 1, "an integer >= 1")),
    "max_side": ("FRS_MAX_SIDE", Rule(lambda v: v >= 1, "an integer >= 1 (pixels)")),
    "gallery_uri": ("FRS_GALLERY_URI", Rule(bool, "a directory, file://, s3:// or postgresql:// URI")),
    "sync_ttl": ("FRS_SYNC_TTL", Rule(lambda v: math.isfinite(v) and v >= 0, "a number of seconds >= 0")),
    "pg_ef_search": ("FRS_PG_EF_SEARCH", Rule(lambda v: 1 <= v <= 1000, "an integer from 1 to 1000")),
    "pg_index_build_memory": (
        "FRS_PG_INDEX_BUILD_MEMORY",
        Rule(_memory_size, "a PostgreSQL memory size such as 512MB or 2GB"),
    ),
    "ann_min_faces": (
        "FRS_ANN_MIN_FACES",
        Rule(lambda v: v >= 0, "an integer >= 0 (0: always use the index)"),
    ),
    "s3_max_attempts": (
        "FRS_S3_MAX_ATTEMPTS",
        Rule(lambda v: v >= 1, "an integer >= 1 (the first try included)"),
    ),
    "s3_connect_timeout": ("FRS_S3_CONNECT_TIMEOUT", Rule(_seconds, "a number of seconds > 0 and < 3600")),
    "s3_read_timeout": ("FRS_S3_READ_TIMEOUT", Rule(_seconds, "a number of seconds > 0 and < 3600")),
    "results_uri": (
        "FRS_RESULTS_URI",
        Rule(_outside_trigger, "s3://bucket/prefix or a directory, with no 'cameras' path segment"),
    ),
    "alert_state_uri": (
        "FRS_ALERT_STATE_URI",
        Rule(_outside_trigger, "s3://bucket/prefix or a directory, with no 'cameras' path segment"),
    ),
    "alert_topic_arn": (
        "FRS_ALERT_TOPIC_ARN",
        Rule(
            lambda v: bool(re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}", v)),
            "an SNS topic ARN",
        ),
    ),
    "alert_cooldown": (
        "FRS_ALERT_COOLDOWN",
        Rule(lambda v: 0 <= v <= MAX_ALERT_COOLDOWN, f"a number of seconds from 0 to {MAX_ALERT_COOLDOWN}"),
    ),
    "video_fps": (
        "FRS_VIDEO_FPS",
        Rule(lambda v: 0 < v <= 30, "a number of frames per second > 0 and <= 30"),
    ),
    "max_clip_seconds": (
        "FRS_MAX_CLIP_SECONDS",
        Rule(lambda v: 0 < v <= 900, "a number of seconds > 0 and <= 900 (Lambda's longest timeout)"),
    ),
    "max_clip_bytes": ("FRS_MAX_CLIP_BYTES", Rule(lambda v: v >= 1, "an integer >= 1 (bytes)")),
    "audit_uri": (
        "FRS_AUDIT_URI",
        Rule(_outside_trigger, "s3://bucket/prefix or a directory, with no 'cameras' path segment"),
    ),
    "index_queue_url": (
        "FRS_INDEX_QUEUE_URL",
        Rule(lambda v: bool(re.fullmatch(r"https?://\S+/\d{12}/[\w.-]{1,80}", v)), "an SQS queue URL"),
    ),
    "index_jobs_uri": (
        "FRS_INDEX_JOBS_URI",
        Rule(_outside_trigger, "s3://bucket/prefix or a directory, with no 'cameras' path segment"),
    ),
}


def misconfigured(variable: str, problem: str, raw: object) -> FRSError:
    return FRSError("misconfigured", f"{variable} {problem}, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline, the galleries and the AWS clients need to know about their environment."""

    # -- models and pipeline
    pack: str = "open"
    models_dir: Path = field(default_factory=lambda: REPO_ROOT / "models")
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    det_threshold: float | None = None  # None: the pack's detector score threshold
    det_size: int | None = None  # None: the pack's detector input size
    min_face: int = 20  # pixels, shorter side of the detection box
    illumination: str = "detect"  # a dark frame with no face found is brightened for a second look
    match_threshold: float | None = None  # None: from the target rates below (or the pack's fixed threshold)
    # -- decisions: operating points in plain terms (frs.decision.policy) and the quality filter
    target_fpir: float = 0.01  # identify: share of strangers a search may name, for the gallery's size
    # verify: share of impostor pairs (pairs of different people, each person weighing one) that may match.
    # 0.1% sits at SFace's LFW-tuned 0.363 (0.367 for open on lfw-dev), so LFW-level verification keeps its
    # accuracy (README, "Operating points").
    target_far: float = 1e-3
    add_quality_filter: str = "low"  # enrolment refuses faces below this level
    identify_quality_filter: str = "none"  # identify answers faces below it "low_quality"
    max_pixels: int = 40_000_000  # decompression-bomb guard, checked before decoding
    max_side: int = 4096  # larger images are scaled down on decode (memory bound)
    allow_unpinned: bool = False  # accept artifacts without a sha256 pin (`frs models fetch` only)
    # -- galleries
    gallery_uri: str = field(default_factory=default_gallery_uri)
    cache_dir: Path = field(default_factory=_default_cache_dir)
    sync_ttl: float = 5.0
    ann_min_faces: int = 200_000  # file galleries this large search through an HNSW index
    pg_ef_search: int = 400  # pgvector HNSW candidates per query: recall vs latency
    # maintenance_work_mem of a bulk load's HNSW build (None: the server's); a build whose graph fits is fast
    pg_index_build_memory: str | None = None
    # -- AWS (every boto3 client comes from frs.aws with these)
    input_bucket: str | None = None  # if set, {"s3": ...} images may only come from this bucket
    aws_region: str = DEFAULT_REGION
    aws_endpoint_url: str | None = None  # e.g. MinIO or moto; None: the service's own endpoint
    s3_endpoint_url: str | None = None  # S3 only, overrides aws_endpoint_url
    s3_max_attempts: int = 3
    s3_connect_timeout: float = 3.0
    s3_read_timeout: float = 10.0
    # -- CCTV: camera frames and clips arriving as S3 events (frs/cctv)
    cameras: str | None = None  # JSON text, or s3://bucket/key of a JSON document; None: built-in defaults
    results_uri: str | None = None  # where results go: s3://bucket/prefix or a directory
    alert_state_uri: str | None = None  # cooldown state; None: "alert-state" next to the results
    alert_topic_arn: str | None = None  # SNS topic for alerts; None: alerts are recorded, not published
    alert_cooldown: float = 300.0  # seconds between two alerts for one (camera, identity)
    video_fps: float = 2.0  # clip frames analysed per second of video
    max_clip_seconds: float = 20.0  # longer clips are refused (clip_too_long): Lambda's time budget
    max_clip_bytes: int = 100 * 1024 * 1024  # larger clips are refused (clip_too_large): /tmp and memory
    # -- privacy and access (frs/access, frs/audit)
    access_policy: str | None = None  # JSON text, or s3://bucket/key of a JSON document; None: no policy
    audit_uri: str | None = None  # audit records (JSON Lines): s3://bucket/prefix or a directory; None: none
    # -- indexing a photo archive (frs/indexing): `frs index` sends batches to the queue, the function enrols
    index_queue_url: str | None = None  # the SQS queue of index batches (the template's IndexQueue)
    index_jobs_uri: str | None = None  # where job state and per-photo results go: s3://bucket/prefix or a dir

    def __post_init__(self) -> None:
        for item in fields(self):
            if item.name in RULES:
                variable, rule = RULES[item.name]
                value = getattr(self, item.name)
                problem = rule.problem(value)
                if problem is not None:
                    raise misconfigured(variable, problem, value)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``environ`` (default ``os.environ``); unset or empty variables keep the default."""
        env = _Environment(os.environ if environ is None else environ)
        base = cls()
        return cls(
            pack=env.text("FRS_PACK") or base.pack,
            models_dir=env.path("FRS_MODELS_DIR") or base.models_dir,
            threads=env.integer("FRS_THREADS", base.threads),
            det_threshold=env.optional_number("FRS_DET_THRESHOLD"),
            det_size=env.optional_integer("FRS_DET_SIZE"),
            min_face=env.integer("FRS_MIN_FACE", base.min_face),
            illumination=env.text("FRS_ILLUMINATION") or base.illumination,
            match_threshold=env.optional_number("FRS_MATCH_THRESHOLD"),
            target_fpir=env.number("FRS_TARGET_FPIR", base.target_fpir),
            target_far=env.number("FRS_TARGET_FAR", base.target_far),
            add_quality_filter=env.text("FRS_ADD_QUALITY_FILTER") or base.add_quality_filter,
            identify_quality_filter=env.text("FRS_IDENTIFY_QUALITY_FILTER") or base.identify_quality_filter,
            max_pixels=env.integer("FRS_MAX_PIXELS", base.max_pixels),
            max_side=env.integer("FRS_MAX_SIDE", base.max_side),
            allow_unpinned=env.flag("FRS_ALLOW_UNPINNED"),
            gallery_uri=env.text("FRS_GALLERY_URI") or base.gallery_uri,
            cache_dir=env.path("FRS_CACHE_DIR") or base.cache_dir,
            sync_ttl=env.number("FRS_SYNC_TTL", base.sync_ttl),
            ann_min_faces=env.integer("FRS_ANN_MIN_FACES", base.ann_min_faces),
            pg_ef_search=env.integer("FRS_PG_EF_SEARCH", base.pg_ef_search),
            pg_index_build_memory=env.text("FRS_PG_INDEX_BUILD_MEMORY") or base.pg_index_build_memory,
            input_bucket=env.text("FRS_INPUT_BUCKET"),
            aws_region=env.text("AWS_REGION") or env.text("AWS_DEFAULT_REGION") or base.aws_region,
            aws_endpoint_url=env.text("AWS_ENDPOINT_URL"),
            s3_endpoint_url=env.text("AWS_ENDPOINT_URL_S3"),
            s3_max_attempts=env.integer("FRS_S3_MAX_ATTEMPTS", base.s3_max_attempts),
            s3_connect_timeout=env.number("FRS_S3_CONNECT_TIMEOUT", base.s3_connect_timeout),
            s3_read_timeout=env.number("FRS_S3_READ_TIMEOUT", base.s3_read_timeout),
            cameras=env.text("FRS_CAMERAS"),
            results_uri=env.text("FRS_RESULTS_URI"),
            alert_state_uri=env.text("FRS_ALERT_STATE_URI"),
            alert_topic_arn=env.text("FRS_ALERT_TOPIC_ARN"),
            alert_cooldown=env.number("FRS_ALERT_COOLDOWN", base.alert_cooldown),
            video_fps=env.number("FRS_VIDEO_FPS", base.video_fps),
            max_clip_seconds=env.number("FRS_MAX_CLIP_SECONDS", base.max_clip_seconds),
            max_clip_bytes=env.integer("FRS_MAX_CLIP_BYTES", base.max_clip_bytes),
            access_policy=env.text("FRS_ACCESS_POLICY"),
            audit_uri=env.text("FRS_AUDIT_URI"),
            index_queue_url=env.text("FRS_INDEX_QUEUE_URL"),
            index_jobs_uri=env.text("FRS_INDEX_JOBS_URI"),
        )


def parse_integer(raw: str) -> int:
    """An integer in decimal; ValueError otherwise (also for '1.5' and '')."""
    return int(raw.strip())


def parse_number(raw: str) -> float:
    """A finite decimal number; ValueError otherwise."""
    value = float(raw.strip())
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class _Environment:
    """Typed reads of environment variables; a value that does not parse is ``misconfigured``, naming it."""

    def __init__(self, environ: Any) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        value = self._environ.get(name)
        return value if value else None

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return Path(value) if value else None

    def integer(self, name: str, default: int) -> int:
        value = self.optional_integer(name)
        return default if value is None else value

    def optional_integer(self, name: str) -> int | None:
        return self._parsed(name, parse_integer, "an integer")

    def number(self, name: str, default: float) -> float:
        value = self.optional_number(name)
        return default if value is None else value

    def optional_number(self, name: str) -> float | None:
        return self._parsed(name, parse_number, "a number")

    def _parsed(self, name: str, parse: Callable[[str], T], what: str) -> T | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError:
            raise misconfigured(name, f"must be {what}", raw) from None

    def flag(self, name: str) -> bool:
        raw = self.text(name)
        if raw is None:
            return False
        if raw.strip().lower() in _TRUE:
            return True
        if raw.strip().lower() in _FALSE:
            return False
        raise misconfigured(name, "must be 1 or 0 (true/false)", raw)
