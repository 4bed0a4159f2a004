"""Fixtures for the CCTV tests: moto (S3 + SNS + SQS) on 127.0.0.1, a camera bucket, an alert topic with an
SQS queue subscribed, and a gallery with two real people (A on the watchlist, B not)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frs.api.app import Application
from frs.config import Settings
from frs.service import FaceService
from harness.messaging import AlertQueue, subscribed_queue
from harness.s3 import S3Endpoint, start_moto_endpoint
from harness.s3_events import Uploaded, upload

CAMERAS = {"default": {"gallery": "people"}, "lobby": {"alert_unknown": True}, "closed": {"enabled": False}}


@pytest.fixture(scope="session")
def moto(s3_endpoint: S3Endpoint) -> Iterator[S3Endpoint]:
    """The session's moto server, or one of our own when the S3 tests run against another store (SNS and
    SQS are moto's)."""
    if s3_endpoint.server is not None:
        yield s3_endpoint
        return
    own = start_moto_endpoint()
    yield own
    own.stop()


@pytest.fixture
def aws_env(moto: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> S3Endpoint:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    return moto


@pytest.fixture
def bucket(aws_env: S3Endpoint) -> str:
    return aws_env.create_bucket()


@pytest.fixture
def alert_queue(aws_env: S3Endpoint) -> AlertQueue:
    return subscribed_queue(aws_env)


@pytest.fixture(scope="session")
def people_galleries(settings: Settings, testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gallery directory with 'people': A (person_a_1, watchlisted), B (person_b_1) and C (impostor_2, whose
    "watchlist" is the string "true", which is not JSON true). Read-only."""
    root = tmp_path_factory.mktemp("cctv-galleries")
    service = FaceService(dataclasses.replace(settings, gallery_uri=str(root), cache_dir=root / "cache"))
    service.add("people", "A", (testdata / "person_a_1.jpg").read_bytes(), metadata={"watchlist": True})
    service.add("people", "B", (testdata / "person_b_1.jpg").read_bytes(), metadata={"team": "night"})
    service.add("people", "C", (testdata / "impostor_2.jpg").read_bytes(), metadata={"watchlist": "true"})
    return root


@pytest.fixture
def cctv_settings(
    settings: Settings,
    people_galleries: Path,
    aws_env: S3Endpoint,
    bucket: str,
    alert_queue: AlertQueue,
    tmp_path: Path,
) -> Settings:
    return dataclasses.replace(
        settings,
        gallery_uri=str(people_galleries),
        cache_dir=tmp_path / "cache",
        sync_ttl=60.0,
        aws_endpoint_url=aws_env.url,
        aws_region="us-east-1",
        s3_max_attempts=2,
        cameras=json.dumps(CAMERAS),
        results_uri=f"s3://{bucket}/results",
        alert_topic_arn=alert_queue.topic_arn,
    )


@pytest.fixture
def app(cctv_settings: Settings) -> Application:
    """The Lambda application (the handler's dispatch) on these settings."""
    return Application(FaceService(cctv_settings))


class Camera:
    """Uploads to the camera bucket the way a camera or NVR does."""

    def __init__(self, endpoint: S3Endpoint, bucket: str, testdata: Path) -> None:
        self.client = endpoint.client()
        self.bucket = bucket
        self.testdata = testdata

    def put(self, key: str, photo: str | bytes, metadata: dict[str, str] | None = None) -> Uploaded:
        data = photo if isinstance(photo, bytes) else (self.testdata / photo).read_bytes()
        return upload(self.client, self.bucket, key, data, metadata)

    def results(self) -> dict[str, Any]:
        """Every result document under results/, by key."""
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix="results/")
        return {
            item["Key"]: json.loads(
                self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
            )
            for item in listing.get("Contents", [])
        }

    def head(self, key: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=key)
        return answer


@pytest.fixture
def camera(aws_env: S3Endpoint, bucket: str, testdata: Path) -> Camera:
    return Camera(aws_env, bucket, testdata)
