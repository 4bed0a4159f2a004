"""Camera objects through the real image under AWS's emulator (read-only root, /tmp only, non-root uid):
an S3 event with a frame, a clip (OpenCV's FFmpeg in the slimmed image) and a corrupt object; results in S3,
the alert through SNS to an SQS queue. moto runs on the host (the container shares its network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.config import REPO_ROOT, Settings
from frs.service import FaceService
from harness.clips import Segment, write_clip
from harness.messaging import subscribed_queue
from harness.s3 import S3Endpoint, start_moto_endpoint
from harness.s3_events import records_event, upload
from tests.image.emulator import LambdaContainer

PHOTOS = REPO_ROOT / ".cache" / "testdata"


@pytest.fixture(scope="module")
def moto() -> Iterator[S3Endpoint]:
    endpoint = start_moto_endpoint()
    yield endpoint
    endpoint.stop()


def test_an_s3_event_with_a_frame_a_clip_and_a_corrupt_object(
    image: str, moto: S3Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in moto.env().items():
        monkeypatch.setenv(name, value)
    bucket = moto.create_bucket()
    queue = subscribed_queue(moto)
    host = Settings(
        threads=2,
        gallery_uri=f"s3://{bucket}/galleries",
        cache_dir=tmp_path / "cache",
        aws_endpoint_url=moto.url,
    )
    FaceService(host).add(
        "default", "A", (PHOTOS / "person_a_1.jpg").read_bytes(), metadata={"watchlist": True}
    )
    client = moto.client()
    clip = write_clip(tmp_path / "clip.mp4", [Segment(PHOTOS / "person_b_2.jpg", 2.0)])
    items = [
        upload(client, bucket, "cameras/gate/20240501T120000Z.jpg", (PHOTOS / "person_a_2.jpg").read_bytes()),
        upload(client, bucket, "cameras/gate/20240501T120100Z.mp4", clip.read_bytes()),
        upload(client, bucket, "cameras/gate/broken.jpg", b"\xff\xd8\xff not a jpeg"),
    ]
    env = {
        **moto.env(),
        "FRS_GALLERY_URI": host.gallery_uri,
        "FRS_RESULTS_URI": f"s3://{bucket}/results",
        "FRS_ALERT_TOPIC_ARN": queue.topic_arn,
        "FRS_CAMERAS": json.dumps({"gate": {"min_face": 40}}),
    }
    with LambdaContainer(image, env=env) as fn:
        summary = fn.invoke(records_event(*items))

    statuses = [(r["key"], r["status"], r.get("error", {}).get("code")) for r in summary["records"]]
    assert statuses == [
        ("cameras/gate/20240501T120000Z.jpg", "ok", None),
        ("cameras/gate/20240501T120100Z.mp4", "ok", None),
        ("cameras/gate/broken.jpg", "error", "invalid_image"),
    ]
    frame = json.loads(
        client.get_object(Bucket=bucket, Key="results/gate/20240501T120000Z.jpg.json")["Body"].read()
    )
    assert [f["identity"] for f in frame["faces"]] == ["A"]
    video = json.loads(
        client.get_object(Bucket=bucket, Key="results/gate/20240501T120100Z.mp4.json")["Body"].read()
    )
    assert [t["identity"] for t in video["tracks"]] == [None]  # B is not enrolled here
    assert video["tracks"][0]["last_seen_at"] == "2024-05-01T12:01:01.500Z"
    (delivered,) = queue.drain(wait_seconds=1)
    assert delivered.attributes["identity"] == "A" and delivered.message["camera"] == "gate"
    assert delivered.message["source"]["key"] == "cameras/gate/20240501T120000Z.jpg"
