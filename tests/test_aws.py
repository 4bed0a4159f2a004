"""One boto3 client factory: every client carries the Settings' region, endpoint, retries and timeouts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from frs import aws
from frs.config import Settings
from harness.s3 import S3Endpoint


@pytest.fixture
def moto(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings pointing at the test endpoint; the credentials come from the environment (boto3's chain)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_endpoint.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_endpoint.secret_key)
    yield Settings(aws_endpoint_url=s3_endpoint.url, aws_region="eu-west-1", s3_max_attempts=4)


def test_clients_carry_the_settings_policy(moto: Settings) -> None:
    tuned = dataclasses.replace(moto, s3_connect_timeout=1.5, s3_read_timeout=7.0)
    for service in ("s3", "secretsmanager"):
        client = aws.client(service, tuned)
        config = client.meta.config
        assert client.meta.endpoint_url == moto.aws_endpoint_url
        assert client.meta.region_name == "eu-west-1"
        assert config.retries == {"mode": "standard", "total_max_attempts": 4}
        assert (config.connect_timeout, config.read_timeout) == (1.5, 7.0)
    assert aws.client("secretsmanager", tuned, region="us-west-2").meta.region_name == "us-west-2"


def test_one_client_per_service_and_policy(moto: Settings) -> None:
    first = aws.client("s3", moto)
    assert aws.client("s3", dataclasses.replace(moto, det_threshold=0.9)) is first  # unrelated setting
    assert aws.client("s3", dataclasses.replace(moto, s3_max_attempts=2)) is not first
    assert aws.client("secretsmanager", moto) is not first


def test_the_endpoint_comes_from_settings_only(
    moto: Settings, s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3 would also honour AWS_ENDPOINT_URL(_S3) on its own; FRS's clients must not (one source)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    bucket = s3_endpoint.create_bucket()
    names = [b["Name"] for b in aws.client("s3", moto).list_buckets()["Buckets"]]  # a real call to moto
    assert bucket in names
    s3_only = dataclasses.replace(moto, s3_endpoint_url="http://127.0.0.1:9001")
    assert aws.client("s3", s3_only).meta.endpoint_url == "http://127.0.0.1:9001"
    assert aws.client("secretsmanager", s3_only).meta.endpoint_url == moto.aws_endpoint_url
