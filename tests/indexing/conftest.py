"""Fixtures for the indexing tests: moto (S3 + SQS) on 127.0.0.1, an archive bucket of real photos laid out
``<prefix>/<identity>/<photo>`` (the pinned test photos plus synthetic variants: mirrored and re-encoded, so
new bytes of the same face), an index queue with its DLQ, and settings that point the function at them."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from harness.index_queue import IndexQueue, create_index_queue
from harness.s3 import S3Endpoint

#: identity -> test photos of that person
PEOPLE = {
    "A": ["person_a_1.jpg", "person_a_2.jpg"],
    "B": ["person_b_1.jpg", "person_b_2.jpg"],
    "Obama": ["fr_obama_1.jpg", "fr_obama_2.jpg"],
}


def variant(data: bytes) -> bytes:
    """The same face as new bytes: mirrored, re-encoded as JPEG quality 85."""
    image = ImageOps.mirror(Image.open(io.BytesIO(data)).convert("RGB"))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def blank() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (128, 128, 128)).save(out, format="JPEG")
    return out.getvalue()


@dataclasses.dataclass
class Archive:
    bucket: str
    prefix: str
    client: Any
    expected: dict[str, str]  # key -> expected outcome

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def put(self, key: str, data: bytes, outcome: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        self.expected[key] = outcome


@pytest.fixture
def aws_env(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> S3Endpoint:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    return s3_endpoint


@pytest.fixture
def archive(aws_env: S3Endpoint, testdata: Path) -> Archive:
    """Every person's photos and a variant of each (enrolled), one photo twice under another key (duplicate),
    a blank image (no_face), the Solvay group photo (multiple_faces), a corrupt file (unreadable) and a
    text file that is no photo (skipped by the listing)."""
    bucket = aws_env.create_bucket()
    found = Archive(bucket, "archive", aws_env.client(), {})
    for person, photos in PEOPLE.items():
        for name in photos:
            data = (testdata / name).read_bytes()
            found.put(f"archive/{person}/{name}", data, "enrolled")
            found.put(f"archive/{person}/mirror_{name}", variant(data), "enrolled")
    found.put("archive/A/person_a_1_copy.jpg", (testdata / "person_a_1.jpg").read_bytes(), "duplicate")
    found.put("archive/Nobody/blank.jpg", blank(), "no_face")
    found.put(
        "archive/Crowd/solvay.jpg", (testdata / "solvay_conference_1927.jpg").read_bytes(), "multiple_faces"
    )
    found.put("archive/B/corrupt.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg", "unreadable")
    found.client.put_object(Bucket=bucket, Key="archive/README.txt", Body=b"not a photo")
    return found


@pytest.fixture
def queue(aws_env: S3Endpoint) -> IndexQueue:
    return create_index_queue(aws_env, max_receive_count=3)


@pytest.fixture
def index_settings(
    settings: Settings, aws_env: S3Endpoint, archive: Archive, queue: IndexQueue, tmp_path: Path
) -> Settings:
    """SQLite galleries in S3 (the archive's bucket, galleries/), jobs under index-jobs/."""
    return dataclasses.replace(
        settings,
        gallery_uri=f"s3://{archive.bucket}/galleries",
        cache_dir=tmp_path / "cache",
        sync_ttl=0.0,
        aws_endpoint_url=aws_env.url,
        aws_region="us-east-1",
        s3_max_attempts=2,
        index_queue_url=queue.url,
        index_jobs_uri=f"s3://{archive.bucket}/index-jobs",
    )


@pytest.fixture(autouse=True)
def _fresh_gallery_objects() -> Iterator[None]:
    yield
    clear_gallery_cache()
