"""One boto3 client factory: every client carries the Settings' region, endpoint, retries and timeouts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs import aws
from frs.config import REPO_ROOT, Settings
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


def _boto3_after_init(env: dict[str, str]) -> bool:
    """Whether boto3 is imported once ``handler`` has initialised in a fresh interpreter with ``env``."""
    probe = "import sys, handler; print('boto3' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", **env},
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_init_imports_boto3_only_when_the_configuration_uses_aws(
    s3_endpoint: S3Endpoint, tmp_path: Path
) -> None:
    """A local gallery never pays boto3's import; an S3 gallery gets its client at INIT, not on the first
    request."""
    local = {"FRS_PACK": "embedded", "FRS_GALLERY_URI": str(tmp_path / "galleries")}
    assert _boto3_after_init(local) is False
    on_s3 = {**local, **s3_endpoint.env(), "FRS_GALLERY_URI": f"s3://{s3_endpoint.create_bucket()}/galleries"}
    assert _boto3_after_init(on_s3) is True


def test_prepare_creates_the_s3_client_a_gallery_on_s3_will_use(
    moto: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aws, "_clients", {})
    aws.prepare(dataclasses.replace(moto, gallery_uri="/tmp/galleries"))
    assert aws._clients == {}  # a local gallery needs no client
    aws.prepare(dataclasses.replace(moto, gallery_uri="s3://bucket/galleries"))
    (made,) = aws._clients.values()
    assert aws.client("s3", moto) is made  # the first request reuses it
