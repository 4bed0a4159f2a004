"""Settings: every variable is read in one place, parsed, range-checked, and a bad one names itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frs.config import RULES, Settings
from frs.errors import ERROR_STATUS, FRSError

#: variable -> (raw value, field, parsed value)
GOOD: dict[str, tuple[str, str, Any]] = {
    "FRS_PACK": ("buffalo_l", "pack", "buffalo_l"),
    "FRS_MODELS_DIR": ("/opt/models", "models_dir", Path("/opt/models")),
    "FRS_THREADS": ("3", "threads", 3),
    "FRS_DET_THRESHOLD": ("0.7", "det_threshold", 0.7),
    "FRS_DET_SIZE": ("320", "det_size", 320),
    "FRS_MIN_FACE": ("0", "min_face", 0),
    "FRS_ILLUMINATION": ("off", "illumination", "off"),
    "FRS_MATCH_THRESHOLD": ("-0.25", "match_threshold", -0.25),
    "FRS_TARGET_FPIR": ("0.001", "target_fpir", 0.001),
    "FRS_TARGET_FAR": ("1e-4", "target_far", 1e-4),
    "FRS_ADD_QUALITY_FILTER": ("medium", "add_quality_filter", "medium"),
    "FRS_IDENTIFY_QUALITY_FILTER": ("low", "identify_quality_filter", "low"),
    "FRS_MAX_PIXELS": ("1000", "max_pixels", 1000),
    "FRS_MAX_SIDE": ("640", "max_side", 640),
    "FRS_ALLOW_UNPINNED": ("1", "allow_unpinned", True),
    "FRS_GALLERY_URI": ("s3://bucket/prefix", "gallery_uri", "s3://bucket/prefix"),
    "FRS_CACHE_DIR": ("/tmp/c", "cache_dir", Path("/tmp/c")),
    "FRS_SYNC_TTL": ("0", "sync_ttl", 0.0),
    "FRS_ANN_MIN_FACES": ("0", "ann_min_faces", 0),
    "FRS_PG_EF_SEARCH": ("1000", "pg_ef_search", 1000),
    "FRS_PG_INDEX_BUILD_MEMORY": ("2GB", "pg_index_build_memory", "2GB"),
    "FRS_INPUT_BUCKET": ("photos", "input_bucket", "photos"),
    "AWS_REGION": ("eu-west-1", "aws_region", "eu-west-1"),
    "AWS_ENDPOINT_URL": ("http://127.0.0.1:9000", "aws_endpoint_url", "http://127.0.0.1:9000"),
    "AWS_ENDPOINT_URL_S3": ("http://127.0.0.1:9001", "s3_endpoint_url", "http://127.0.0.1:9001"),
    "FRS_S3_MAX_ATTEMPTS": ("1", "s3_max_attempts", 1),
    "FRS_S3_CONNECT_TIMEOUT": ("0.5", "s3_connect_timeout", 0.5),
    "FRS_S3_READ_TIMEOUT": ("20", "s3_read_timeout", 20.0),
    "FRS_CAMERAS": ('{"door": {"alert_unknown": true}}', "cameras", '{"door": {"alert_unknown": true}}'),
    "FRS_RESULTS_URI": ("s3://cams/results", "results_uri", "s3://cams/results"),
    "FRS_ALERT_STATE_URI": ("/var/frs/alert-state", "alert_state_uri", "/var/frs/alert-state"),
    "FRS_ALERT_TOPIC_ARN": (
        "arn:aws:sns:eu-west-1:123456789012:frs-alerts",
        "alert_topic_arn",
        "arn:aws:sns:eu-west-1:123456789012:frs-alerts",
    ),
    "FRS_ALERT_COOLDOWN": ("0", "alert_cooldown", 0.0),
    "FRS_VIDEO_FPS": ("0.5", "video_fps", 0.5),
    "FRS_MAX_CLIP_SECONDS": ("120", "max_clip_seconds", 120.0),
    "FRS_MAX_CLIP_BYTES": ("1000", "max_clip_bytes", 1000),
    "FRS_ACCESS_POLICY": ('{"rules": []}', "access_policy", '{"rules": []}'),
    "FRS_AUDIT_URI": ("s3://audit-bucket/audit", "audit_uri", "s3://audit-bucket/audit"),
    "FRS_INDEX_QUEUE_URL": (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/frs-IndexQueue-1",
        "index_queue_url",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/frs-IndexQueue-1",
    ),
    "FRS_INDEX_JOBS_URI": ("s3://gallery/index-jobs", "index_jobs_uri", "s3://gallery/index-jobs"),
}

#: variable -> values an operator might set by mistake
BAD: dict[str, list[str]] = {
    "FRS_PACK": ["../etc", ".hidden"],
    "FRS_THREADS": ["0", "-2", "two", "1.5"],
    "FRS_DET_THRESHOLD": ["0", "-0.1", "1.5", "high", "nan"],
    "FRS_DET_SIZE": ["abc", "100", "0", "640.0"],
    "FRS_MIN_FACE": ["-1", "big"],
    "FRS_ILLUMINATION": ["on", "clahe"],
    "FRS_MATCH_THRESHOLD": ["1.01", "-2", "x"],
    "FRS_TARGET_FPIR": ["0", "1", "-0.01", "1%", "nan"],
    "FRS_TARGET_FAR": ["0", "2", "tiny"],
    "FRS_ADD_QUALITY_FILTER": ["LOW", "strict", "0"],
    "FRS_IDENTIFY_QUALITY_FILTER": ["auto"],
    "FRS_MAX_PIXELS": ["0", "lots"],
    "FRS_MAX_SIDE": ["0"],
    "FRS_ALLOW_UNPINNED": ["maybe", "2"],
    "FRS_SYNC_TTL": ["-1", "inf", "soon"],
    "FRS_ANN_MIN_FACES": ["lots", "-1"],
    "FRS_PG_EF_SEARCH": ["0", "1001", "many"],
    "FRS_PG_INDEX_BUILD_MEMORY": ["2", "2 GB", "0MB", "lots", "2gb"],
    "FRS_S3_MAX_ATTEMPTS": ["0", "three"],
    "FRS_S3_CONNECT_TIMEOUT": ["0", "-1", "3600", "x"],
    "FRS_S3_READ_TIMEOUT": ["0", "forever"],
    # Results or state under a cameras/ segment would invoke the function again: refused.
    "FRS_RESULTS_URI": ["s3://cams/cameras/results", "s3://", "http://host/x", "/data/cameras"],
    "FRS_ALERT_STATE_URI": ["s3://cams/site/cameras/state", "ftp://x"],
    "FRS_ALERT_TOPIC_ARN": ["frs-alerts", "arn:aws:sqs:us-east-1:123456789012:q"],
    "FRS_ALERT_COOLDOWN": ["-1", "86401", "five"],
    "FRS_VIDEO_FPS": ["0", "31", "fast"],
    "FRS_MAX_CLIP_SECONDS": ["0", "901"],
    "FRS_MAX_CLIP_BYTES": ["0", "1.5"],
    "FRS_INDEX_QUEUE_URL": ["frs-index", "arn:aws:sqs:us-east-1:123456789012:q"],
    "FRS_INDEX_JOBS_URI": ["s3://", "s3://b/cameras/jobs", "http://host/jobs"],
}


def test_an_empty_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({name: "" for name in GOOD}) == Settings()  # empty means unset


@pytest.mark.parametrize("variable", sorted(GOOD))
def test_every_variable_reaches_its_setting(variable: str) -> None:
    raw, field, expected = GOOD[variable]
    settings = Settings.from_env({variable: raw})
    assert getattr(settings, field) == expected
    assert getattr(Settings(), field) != expected  # the test value is not the default


def test_aws_region_falls_back_to_aws_default_region() -> None:
    assert Settings.from_env({"AWS_DEFAULT_REGION": "ap-south-1"}).aws_region == "ap-south-1"
    both = {"AWS_DEFAULT_REGION": "ap-south-1", "AWS_REGION": "eu-west-1"}
    assert Settings.from_env(both).aws_region == "eu-west-1"


@pytest.mark.parametrize(
    ("variable", "raw"), [(v, raw) for v, values in sorted(BAD.items()) for raw in values]
)
def test_a_bad_value_is_misconfigured_and_names_its_variable(variable: str, raw: str) -> None:
    with pytest.raises(FRSError) as caught:
        Settings.from_env({variable: raw})
    assert caught.value.code == "misconfigured"
    assert caught.value.status == 500  # the operator's mistake, never the caller's 400
    assert caught.value.message.startswith(f"{variable} must be ")
    assert repr(raw) in caught.value.message or raw in caught.value.message


def test_det_threshold_zero_is_refused_not_replaced() -> None:
    """Used to become 0.5 silently (a falsy 0.0 fell back to the default)."""
    with pytest.raises(FRSError, match="FRS_DET_THRESHOLD must be a number greater than 0"):
        Settings.from_env({"FRS_DET_THRESHOLD": "0"})
    assert Settings.from_env({"FRS_DET_THRESHOLD": "1"}).det_threshold == 1.0


def test_settings_built_in_code_are_checked_the_same_way() -> None:
    with pytest.raises(FRSError) as caught:
        Settings(sync_ttl=-5)
    assert (caught.value.code, caught.value.message) == (
        "misconfigured",
        "FRS_SYNC_TTL must be a number of seconds >= 0, got -5",
    )


def test_the_quality_filter_words_are_the_pipelines() -> None:
    from frs.config import QUALITY_FILTERS
    from frs.pipeline.quality import FILTER_LEVELS

    assert QUALITY_FILTERS == FILTER_LEVELS  # Settings sits below the pipeline, so it keeps its own copy


def test_every_rule_names_a_real_setting_and_variable() -> None:
    fields = set(Settings.__dataclass_fields__)
    assert set(RULES) <= fields
    variables = {variable for variable, _ in RULES.values()}
    assert variables <= set(GOOD)
    assert ERROR_STATUS["misconfigured"] == 500
