"""Fixtures for the gallery tests: a real S3 endpoint (moto on 127.0.0.1, or FRS_TEST_S3_ENDPOINT), fresh
buckets, settings, and deterministic synthetic faces (the gallery never sees images, only embeddings)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from frs import aws
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache, open_gallery
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from harness.postgres import PgServer, shared_pg_server
from harness.s3 import S3Endpoint
from tests.gallery.synthetic import TEST_PACK, FaceMaker

BACKENDS = ["sqlite-local", "sqlite-s3", "pgvector"]


@pytest.fixture
def faces() -> FaceMaker:
    return FaceMaker()


@pytest.fixture
def pack() -> PackInfo:
    return TEST_PACK


@pytest.fixture
def s3_env(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> S3Endpoint:
    """The test endpoint's credentials for boto3, and its address for worker processes (which read their
    settings from the environment, as in production); in-process code gets it through ``s3_settings``."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FRS_S3_MAX_ATTEMPTS", "2")  # fail fast when a test makes S3 unreachable
    return s3_endpoint


@pytest.fixture
def s3_bucket(s3_env: S3Endpoint) -> str:
    """A fresh bucket per test."""
    return s3_env.create_bucket()


@pytest.fixture
def gallery_settings(local_settings: Settings, s3_env: S3Endpoint, s3_bucket: str) -> Settings:
    """``local_settings`` for an S3 gallery in a fresh bucket of the test endpoint (2 attempts per call)."""
    return dataclasses.replace(
        local_settings,
        gallery_uri=f"s3://{s3_bucket}/galleries",
        aws_endpoint_url=s3_env.url,
        aws_region="us-east-1",
        s3_max_attempts=2,
    )


@pytest.fixture
def s3_client(gallery_settings: Settings) -> Any:
    """FRS's own S3 client for the test endpoint (what a transport built by the factory uses)."""
    return aws.client("s3", gallery_settings)


@pytest.fixture(autouse=True)
def _fresh_gallery_objects() -> Iterator[None]:
    yield
    clear_gallery_cache()


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    return shared_pg_server()


def backend_settings(request: pytest.FixtureRequest, backend: str) -> Settings:
    """Settings whose gallery URI is a local directory, an S3 bucket (moto) or PostgreSQL (pgserver)."""
    if backend == "sqlite-local":
        settings: Settings = request.getfixturevalue("local_settings")
        return settings
    if backend == "sqlite-s3":
        settings = request.getfixturevalue("gallery_settings")
        return settings
    server: PgServer = request.getfixturevalue("pg_server")
    local: Settings = request.getfixturevalue("local_settings")
    return dataclasses.replace(local, gallery_uri=server.uri)


@pytest.fixture(params=BACKENDS)
def settings_of_backend(request: pytest.FixtureRequest) -> Settings:
    return backend_settings(request, request.param)


@pytest.fixture
def gallery(settings_of_backend: Settings) -> Iterator[Gallery]:
    """A gallery opened through the factory, as the service does, on each backend in turn."""
    # A fresh name per test: PostgreSQL galleries share one database for the whole session.
    yield open_gallery(f"contract_{uuid.uuid4().hex[:12]}", settings_of_backend)
