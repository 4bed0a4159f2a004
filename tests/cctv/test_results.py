"""Results are written once per camera object: a retry leaves the object (and its ETag) alone; a changed
document replaces it. Same semantics in S3 (moto) and in a local directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from frs.cctv.keys import parse_key
from frs.cctv.objects import LocalObjects, ObjectStore, PreconditionFailed, S3Objects
from frs.cctv.results import result_key, write_result
from frs.errors import FRSError
from harness.s3 import S3Endpoint


@pytest.fixture(params=["s3", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjects(tmp_path / "results")
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint.url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        region_name="us-east-1",
    )
    yield S3Objects(endpoint.create_bucket(), "results", client)


def test_conditional_writes(store: ObjectStore):
    etag = store.put("a/b.json", b"1", if_absent=True)
    with pytest.raises(PreconditionFailed):
        store.put("a/b.json", b"2", if_absent=True)
    with pytest.raises(PreconditionFailed):
        store.put("a/b.json", b"2", if_match='"not-the-etag"')
    newer = store.put("a/b.json", b"2", if_match=etag)
    stored = store.get("a/b.json")
    assert stored is not None and (stored.data, stored.etag) == (b"2", newer)
    assert store.get("a/missing.json") is None


def test_a_result_is_written_once_and_replaced_only_when_it_changes(store: ObjectStore):
    location = write_result(store, "gate/x.jpg.json", {"faces": [], "alerts": ["failed"]})
    first = store.get("gate/x.jpg.json")
    assert write_result(store, "gate/x.jpg.json", {"alerts": ["failed"], "faces": []}) == location  # same doc
    assert store.get("gate/x.jpg.json") == first
    write_result(store, "gate/x.jpg.json", {"faces": [], "alerts": ["sent"]})
    changed = store.get("gate/x.jpg.json")
    assert changed is not None and first is not None and changed.etag != first.etag
    assert b'"sent"' in changed.data


def test_result_keys_keep_the_prefix_the_camera_and_the_name():
    assert result_key(parse_key("site/cameras/gate/2024/x.jpg")) == "site/gate/2024/x.jpg.json"
    assert result_key(parse_key("cameras/gate/x.mp4")) == "gate/x.mp4.json"


def test_an_unreachable_store_is_a_retryable_error():
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
        config=boto3.session.Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(FRSError) as raised:
        write_result(S3Objects("bucket", "results", client), "k.json", {})
    assert raised.value.code == "storage_unavailable" and raised.value.status == 503
