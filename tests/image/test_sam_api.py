"""The HTTP API through `sam local start-api` (SAM's API Gateway emulation, a fresh container per request), on
the README's env-vars file: the README's curl flow, a raw image body, the docs routes and the error contract.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from frs.config import REPO_ROOT
from harness.s3 import free_port
from tests.image.conftest import sam_env_file
from tests.image.emulator import SAM
from tests.image.s3_network import S3Network

README = REPO_ROOT / "README.md"
PHOTO = REPO_ROOT / ".cache" / "testdata" / "person_b_2.jpg"
TIMEOUT = 180  # seconds per request: each one starts a container and loads the models


@pytest.fixture(scope="module")
def api(
    built_template: Path, s3_network: S3Network, sam_process_env: dict[str, str], tmp_path_factory: Any
) -> Iterator[str]:
    env_vars = sam_env_file(s3_network.endpoint.create_bucket(), "galleries", tmp_path_factory.mktemp("api"))
    port = free_port()
    log = tmp_path_factory.mktemp("api-log") / "sam.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(SAM), "local", "start-api", "--template", str(built_template), "--port", str(port),
                "--docker-network", s3_network.network, "--env-vars", str(env_vars), "--skip-pull-image",
            ],
            cwd=REPO_ROOT, env=sam_process_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process, log)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sam local start-api exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            requests.get(f"{base}/no-such-route", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.5)
    pytest.fail(f"sam local start-api did not listen on {base}:\n{log.read_text()[-3000:]}")


def _readme_section_curls() -> list[str]:
    """The curl commands of the README's "Run the real image locally" section, as written there."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Run the real image locally", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in section.splitlines() if line.strip().startswith("curl ")]
    assert commands, "the README section has no curl commands"
    return commands


def _error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body


def test_readme_curl_flow_then_a_raw_jpeg_finds_the_enrolled_person(api: str) -> None:
    commands = _readme_section_curls()
    assert any("/add_identity?name=" in c for c in commands) and any("/recognize" in c for c in commands)
    answers = []
    for command in commands:
        local = command.replace("http://127.0.0.1:3000", api)
        assert local != command, f"the README's curl does not target 127.0.0.1:3000: {command}"
        result = subprocess.run(
            ["bash", "-c", f"{local} --silent --show-error --max-time {TIMEOUT}"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT + 30, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        answers.append(json.loads(result.stdout))
    name = re.search(r"name=(\w+)", next(c for c in commands if "/add_identity" in c))
    assert name is not None
    added, recognized = answers[0], answers[-1]
    assert added["identity"] == name.group(1), added
    assert recognized["faces"][0]["identity"] == name.group(1), recognized

    raw = requests.post(
        f"{api}/galleries/default/identify",
        data=PHOTO.read_bytes(),
        headers={"Content-Type": "image/jpeg"},
        timeout=TIMEOUT,
    )
    assert raw.status_code == 200, raw.text[:500]
    assert raw.json()["faces"][0]["identity"] == name.group(1)


def test_docs_and_openapi(api: str) -> None:
    docs = requests.get(f"{api}/docs", timeout=TIMEOUT)
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    assert "swagger" in docs.text.lower()
    spec = requests.get(f"{api}/openapi.json", timeout=TIMEOUT)
    assert spec.status_code == 200
    document = spec.json()
    assert document["openapi"].startswith("3.") and "/recognize" in document["paths"]


def test_text_body_is_unsupported_media_type(api: str) -> None:
    response = requests.post(
        f"{api}/recognize", data=b"not an image", headers={"Content-Type": "text/plain"}, timeout=TIMEOUT
    )
    _error(response, 415, "unsupported_media_type")


def test_garbage_image_bytes_are_invalid_image(api: str) -> None:
    garbage = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16  # a JPEG signature, then no JPEG
    response = requests.post(
        f"{api}/recognize", data=garbage, headers={"Content-Type": "image/jpeg"}, timeout=TIMEOUT
    )
    _error(response, 400, "invalid_image")


def test_unknown_identity_is_not_found(api: str) -> None:
    _error(requests.get(f"{api}/galleries/default/identities/nobody", timeout=TIMEOUT), 404, "not_found")


def test_a_7_mb_body_never_reaches_the_function(api: str) -> None:
    """README, errors: Lambda takes at most 6 MB per invocation. AWS refuses larger requests with a 413 before
    the     function runs; SAM's emulator instead truncates the event at 6 MB, the runtime cannot parse it and
    SAM relays     the runtime's Runtime.UnmarshalError with status 200. Either way the function never sees
    the body."""
    body = os.urandom(7 * 1024 * 1024)
    response = requests.post(
        f"{api}/recognize", data=body, headers={"Content-Type": "image/jpeg"}, timeout=TIMEOUT
    )
    assert response.json()["errorType"] == "Runtime.UnmarshalError", response.text[:500]
    assert response.status_code == 200
