"""Bounded concurrent load on two ``frs serve`` processes sharing one S3 gallery (moto on 127.0.0.1).

``frs serve`` handles one request at a time, like one Lambda instance, so two processes are needed for real
concurrent writers: the same optimistic-concurrency race as two Lambda instances. The load itself is
``scripts/load_test.py`` (run as a process against the servers started here); this test then checks,
independently of the script, that nothing was lost. Latencies are printed, never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from frs.config import REPO_ROOT
from harness.s3 import S3Endpoint
from harness.serve import running_server
from tests.support.gallery_files import faces_in_gallery_file

SCRIPT = REPO_ROOT / "scripts" / "load_test.py"
CLIENTS, REQUESTS, SERVERS = 4, 40, 2
GALLERY = "load"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def all_listed(base: str) -> list[str]:
    names: list[str] = []
    token = None
    for _ in range(100):
        query = urllib.parse.urlencode({"page_size": 7, **({"page_token": token} if token else {})})
        page = get_json(f"{base}/galleries/{GALLERY}/identities?{query}")  # small pages: paging is exercised
        names.extend(i["identity"] for i in page["identities"])
        token = page["next_page_token"]
        if token is None:
            return names
    raise AssertionError("listing never ended")


@pytest.mark.slow
def test_concurrent_clients_on_two_servers_lose_nothing(
    s3_endpoint: S3Endpoint, testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = s3_endpoint.create_bucket()
    env = {**s3_endpoint.env(), "FRS_GALLERY_URI": f"s3://{bucket}/galleries", "FRS_THREADS": "1"}
    report = tmp_path / "load.json"
    with ExitStack() as stack:
        urls = []
        for n in range(SERVERS):
            root = tmp_path / f"server-{n}"  # separate caches, like separate Lambda instances
            root.mkdir()
            urls.append(stack.enter_context(running_server(root, env)))
        command = [sys.executable, str(SCRIPT), "--clients", str(CLIENTS), "--requests", str(REQUESTS)]
        command += [
            "--gallery",
            GALLERY,
            "--photos",
            str(testdata),
            "--json",
            str(report),
            "--max-seconds",
            "400",
        ]
        for url in urls:
            command += ["--url", url]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        with capsys.disabled():
            print(f"\nload: {CLIENTS} clients x {REQUESTS} requests on {SERVERS} servers\n{completed.stdout}")
        summary = json.loads(report.read_text())

        assert summary["requests"] == CLIENTS * REQUESTS and not summary["stopped_early"]
        assert summary["server_errors"] == 0, summary["server_error_samples"]
        for op, row in summary["operations"].items():
            assert all(0 < int(status) < 500 for status in row["statuses"]), (op, row)
        assert set(summary["operations"]) == {"add", "identify", "identify_group", "list"}
        acknowledged: dict[str, str] = summary["acknowledged_adds"]
        assert len(acknowledged) > CLIENTS  # several adds per client really happened
        assert summary["missing_adds"] == []
        assert completed.returncode == 0, completed.stderr[-2000:]

        # Independently of the script: through the *other* server, every acknowledged add is there, once.
        listed = all_listed(urls[-1])
        assert len(listed) == len(set(listed))
        assert set(acknowledged) <= set(listed)
        for name, face_id in acknowledged.items():
            identity = get_json(f"{urls[-1]}/galleries/{GALLERY}/identities/{urllib.parse.quote(name)}")
            assert [f["face_id"] for f in identity["faces"]] == [face_id]

    data = s3_endpoint.client().get_object(Bucket=bucket, Key=f"galleries/{GALLERY}.sqlite")["Body"].read()
    stored = faces_in_gallery_file(data, tmp_path)
    assert all(stored.get(name) == 1 for name in acknowledged)
    assert set(stored) <= set(acknowledged) | set(summary["unacknowledged_adds"])  # nothing invented
