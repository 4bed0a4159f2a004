"""Images by S3 reference: read with FRS's own S3 client (Settings), only from the input bucket if set."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from frs.api.images import fetch_s3_image, image_from_reference
from frs.config import Settings
from frs.errors import FRSError
from harness.s3 import S3Endpoint


@pytest.fixture
def stored(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, str]]:
    """Settings for the test endpoint and a bucket holding ``photos/a.jpg``."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_endpoint.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_endpoint.secret_key)
    bucket = s3_endpoint.create_bucket()
    s3_endpoint.client().put_object(Bucket=bucket, Key="photos/a.jpg", Body=b"image bytes")
    yield Settings(aws_endpoint_url=s3_endpoint.url, aws_region="us-east-1", s3_max_attempts=2), bucket


def test_an_s3_reference_is_read_through_the_settings_client(stored: tuple[Settings, str]) -> None:
    settings, bucket = stored
    reference = {"s3": {"bucket": bucket, "key": "photos/a.jpg"}}
    assert image_from_reference(reference, "image", settings) == b"image bytes"
    with pytest.raises(FRSError) as missing:
        fetch_s3_image({"bucket": bucket, "key": "photos/none.jpg"}, "image", settings)
    assert missing.value.code == "not_found"


def test_the_input_bucket_setting_limits_where_images_come_from(stored: tuple[Settings, str]) -> None:
    settings, bucket = stored
    only_inputs = dataclasses.replace(settings, input_bucket="inputs")
    with pytest.raises(FRSError) as refused:
        fetch_s3_image({"bucket": bucket, "key": "photos/a.jpg"}, "image", only_inputs)
    assert refused.value.code == "forbidden" and "'inputs'" in refused.value.message
    allowed = dataclasses.replace(settings, input_bucket=bucket)
    assert fetch_s3_image({"bucket": bucket, "key": "photos/a.jpg"}, "image", allowed) == b"image bytes"
