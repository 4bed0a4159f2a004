"""An image whose model files are missing or corrupt fails INIT, reported through the emulator's init error
with a message naming the file, instead of a function that starts and then fails every request."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from frs.config import REPO_ROOT
from tests.image.conftest import PACK
from tests.image.emulator import LambdaContainer, docker


def _recognizer_file() -> str:
    pack = PACK
    manifest = json.loads((REPO_ROOT / "models" / f"{pack}.json").read_text(encoding="utf-8"))
    return f"/opt/frs/models/{pack}/{manifest['recognizer']['file']}"


DAMAGE = {
    "missing": "rm {file}",
    "corrupt": "head -c 4096 {file} > /tmp/part && cp /tmp/part {file} && rm /tmp/part",
}


@pytest.fixture(params=sorted(DAMAGE))
def broken_image(request: pytest.FixtureRequest, image: str) -> Iterator[tuple[str, str]]:
    name = f"frs-image-test-broken:{request.param}-{os.getpid()}"
    dockerfile = f"FROM {image}\nRUN {DAMAGE[request.param].format(file=_recognizer_file())}\n"
    subprocess.run(
        ["docker", "build", "--quiet", "-t", name, "-"],
        input=dockerfile, text=True, capture_output=True, timeout=300, check=True,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )  # fmt: skip
    try:
        yield request.param, name
    finally:
        docker("image", "rm", "--force", name, check=False)


def test_damaged_model_fails_init_clearly(broken_image: tuple[str, str]) -> None:
    damage, name = broken_image
    with LambdaContainer(name) as fn:
        for _ in range(2):  # Lambda retries INIT on the next request; it fails the same way, as an init error
            status, body = fn.invoke_raw({"action": "health"})
            assert status == 502, body[:500]
            error = json.loads(body)
            assert _recognizer_file() in error["errorMessage"], error["errorMessage"]
            if damage == "missing":
                assert "missing" in error["errorMessage"]
        logs = fn.logs()
    assert "INIT RTDONE(status: error)" in logs
    assert '"message":"request"' not in logs  # no request ever reached the handler
