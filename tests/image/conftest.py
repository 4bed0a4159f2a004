"""Fixtures for the image suite. Run by `make image-test` only (it builds the image first); never skipped:
without Docker, the image or the SAM CLI every test here fails with the reason."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frs.config import REPO_ROOT
from harness.s3 import S3Endpoint
from tests.image.emulator import IMAGE_VENV, SAM, docker
from tests.image.s3_network import S3Network, start_s3_network

EVENTS = REPO_ROOT / "events"
#: The pack the image under test was built with (`make image-test` passes the one it built).
PACK = os.environ.get("FRS_PACK", "open")
SAM_ENV_FILE = EVENTS / "env" / "s3.json"  # the README's env-vars file for an S3-compatible store


def event(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def image() -> str:
    name = os.environ.get("FRS_IMAGE", f"frs:{PACK}")
    if shutil.which("docker") is None:
        pytest.fail("docker is not installed: run `make image-test` (it installs docker.io)")
    try:
        docker("info", timeout=30)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"no Docker daemon answers: run `make image-test` (it starts one): {exc}")
    if docker("image", "inspect", name, check=False).returncode != 0:
        pytest.fail(f"image {name} not built: run `make image` first")
    return name


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    if not SAM.exists():
        pytest.fail(f"{SAM} missing: `make image-test` installs requirements-image.txt")
    return SAM


@pytest.fixture(scope="session")
def built_template(image: str, sam_cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SAM built template for `image`, written by the same script as `make image`."""
    out = tmp_path_factory.mktemp("sam") / "template.yaml"
    pack = PACK
    subprocess.run(
        [str(IMAGE_VENV / "bin" / "python"), "scripts/image/built_template.py", image, pack, str(out)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out


@pytest.fixture(scope="session")
def s3_network(image: str) -> Iterator[S3Network]:
    running = start_s3_network(image)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def s3(s3_network: S3Network) -> S3Endpoint:
    return s3_network.endpoint


@pytest.fixture(scope="session")
def input_bucket(s3: S3Endpoint) -> str:
    """The bucket events/detect_s3.json reads its photo from, holding that photo."""
    reference = event("detect_s3")["image"]["s3"]
    client = s3.client()
    client.create_bucket(Bucket=reference["bucket"])
    photo = base64.b64decode(event("detect")["image"]["base64"])
    client.put_object(Bucket=reference["bucket"], Key=reference["key"], Body=photo)
    return str(reference["bucket"])


def sam_env_file(bucket: str, prefix: str, directory: Path) -> Path:
    """The README's S3 env-vars file (endpoint http://frs-s3:5000), with this test's bucket and gallery
    prefix; audit records under audit/ in the same bucket, as the template puts them."""
    variables = json.loads(SAM_ENV_FILE.read_text(encoding="utf-8"))
    variables["FrsFunction"]["FRS_GALLERY_URI"] = f"s3://{bucket}/{prefix}"
    variables["FrsFunction"]["FRS_AUDIT_URI"] = f"s3://{bucket}/audit"
    path = directory / f"env-{bucket}-{prefix}.json"
    path.write_text(json.dumps(variables), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sam_process_env() -> dict[str, str]:
    """The SAM CLI's environment, without this shell's AWS or FRS settings (SAM forwards AWS credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FRS_"))}
    env.update({"SAM_CLI_TELEMETRY": "0", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    return env
