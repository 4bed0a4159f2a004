"""`postgresql+secretsmanager://ARN` resolves through a real Secrets Manager API (moto server)."""

from __future__ import annotations

import json

import boto3
import pytest

from frs.errors import FRSError
from frs.gallery.factory import is_postgres_uri
from frs.gallery.pgvector.secret import resolve_secret_uri
from harness.s3 import S3Endpoint


def _secret(endpoint: S3Endpoint, value: str) -> str:
    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
    )
    name = f"frs-db-{abs(hash(value))}"
    arn: str = client.create_secret(Name=name, SecretString=value)["ARN"]
    return arn


def test_secret_becomes_a_postgres_uri(s3_env: S3Endpoint) -> None:
    arn = _secret(
        s3_env,
        json.dumps(
            {
                "username": "frs",
                "password": "p@ss/w:rd",
                "host": "db.internal",
                "port": 5433,
                "dbname": "faces",
            }
        ),
    )
    uri = f"postgresql+secretsmanager://{arn}"
    assert is_postgres_uri(uri)
    resolve_secret_uri.cache_clear()
    assert resolve_secret_uri(uri) == "postgresql://frs:p%40ss%2Fw%3Ard@db.internal:5433/faces"


def test_bad_secrets_are_configuration_errors(s3_env: S3Endpoint) -> None:
    resolve_secret_uri.cache_clear()
    arn = _secret(s3_env, "not json")
    with pytest.raises(FRSError) as caught:
        resolve_secret_uri(f"postgresql+secretsmanager://{arn}")
    assert caught.value.code == "storage_misconfigured" and "not json" not in caught.value.message
    with pytest.raises(FRSError) as missing:
        resolve_secret_uri(
            "postgresql+secretsmanager://arn:aws:secretsmanager:us-east-1:123456789012:secret:nope"
        )
    assert missing.value.code == "storage_misconfigured"
