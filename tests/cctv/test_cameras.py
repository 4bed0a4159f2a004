"""FRS_CAMERAS: entries over the default entry over built-in defaults; broken documents name the variable."""

from __future__ import annotations

import json

import pytest

from frs.cctv.cameras import CameraConfig, CameraSource, parse_cameras
from frs.config import Settings
from frs.errors import FRSError
from harness.s3 import S3Endpoint


def test_unlisted_cameras_get_the_default_entry_over_the_built_in_defaults():
    cameras = parse_cameras(
        json.dumps({"default": {"gallery": "staff", "min_face": 60}, "door": {"alert_unknown": True}}),
        "inline",
    )
    assert cameras.for_camera("door") == CameraConfig(gallery="staff", min_face=60, alert_unknown=True)
    assert cameras.for_camera("yard") == CameraConfig(gallery="staff", min_face=60)
    assert parse_cameras("{}", "inline").for_camera("any") == CameraConfig("default", 40, False, True)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"door": {"galery": "x"}}', "unknown field 'galery'"),
        ('{"door": {"min_face": "40"}}', "door.min_face must be"),
        ('{"door": {"min_face": true}}', "door.min_face must be"),
        ('{"door": {"alert_unknown": "yes"}}', "door.alert_unknown must be true or false"),
        ('{"door": {"gallery": "../x"}}', "door.gallery"),
        ('{"bad camera": {}}', "camera id"),
        ('{"door": 3}', "must be a JSON object"),
    ],
)
def test_a_broken_document_is_misconfigured_naming_frs_cameras(document: str, problem: str):
    with pytest.raises(FRSError) as raised:
        CameraSource(Settings(cameras=document))
    assert raised.value.code == "misconfigured" and raised.value.status == 500
    assert raised.value.message.startswith("FRS_CAMERAS") and problem in raised.value.message


def test_an_s3_document_is_read_and_read_again_after_the_refresh_interval(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
):
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    bucket = s3_endpoint.create_bucket()
    client = s3_endpoint.client()
    client.put_object(Bucket=bucket, Key="config/cameras.json", Body=b'{"door": {"gallery": "one"}}')
    now = [0.0]
    source = CameraSource(
        Settings(cameras=f"s3://{bucket}/config/cameras.json", aws_endpoint_url=s3_endpoint.url),
        clock=lambda: now[0],
    )
    assert source.current().for_camera("door").gallery == "one"
    client.put_object(Bucket=bucket, Key="config/cameras.json", Body=b'{"door": {"gallery": "two"}}')
    now[0] = 59.0
    assert source.current().for_camera("door").gallery == "one"
    now[0] = 61.0
    assert source.current().for_camera("door").gallery == "two"
    client.put_object(Bucket=bucket, Key="config/cameras.json", Body=b"{broken")
    now[0] = 130.0
    with pytest.raises(FRSError) as raised:
        source.current()
    assert (
        raised.value.code == "misconfigured" and f"s3://{bucket}/config/cameras.json" in raised.value.message
    )
