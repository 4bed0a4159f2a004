"""The image's entry point - ``python -m awslambdaric handler.handler`` - against a local Lambda Runtime API.

This is what Lambda runs in the container: the runtime client imports the handler (INIT), then loops on
``/invocation/next``. The tests feed it real events and read back what it posts, exactly as the Lambda service
would, without Docker or AWS.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from frs.config import REPO_ROOT
from harness.s3 import start_s3_endpoint
from tests.access.policies import NO_POLICY
from tests.deploy.dockerfile import parse_copy, parse_dockerfile
from tests.deploy.runtime_api import RuntimeApi

EVENTS = REPO_ROOT / "events"
INVOKE_TIMEOUT = 120.0  # seconds; the first invocation may still be loading models on a busy machine
START_TIMEOUT = 60.0

# Variables of the real Lambda environment (or of a developer's shell) that would change the runtime's mode.
_DROPPED_ENV = (
    "AWS_LAMBDA_MAX_CONCURRENCY",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_LOG_FORMAT",
    "_LAMBDA_TELEMETRY_LOG_FD",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "FRS_GALLERY_URI",
    "FRS_MODELS_DIR",
    "FRS_PACK",
)


def _event(name: str) -> Any:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def _lambda_env(api: RuntimeApi, tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "frs-test",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "FRS_PACK": "embedded",
            "FRS_GALLERY_URI": str(tmp_path / "galleries"),
            "FRS_CACHE_DIR": str(tmp_path / "cache"),
            "FRS_THREADS": "2",
            "POWERTOOLS_SERVICE_NAME": "frs",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def _runtime(
    handler: str, env: dict[str, str], log: Path, cwd: Path = REPO_ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m awslambdaric HANDLER`` (the image's ENTRYPOINT + CMD), in the repo root; always killed."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", handler],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


def _response(api: RuntimeApi, event: Any, log: Path) -> Any:
    try:
        posted = api.invoke(event, timeout=INVOKE_TIMEOUT)
    except (TimeoutError, RuntimeError) as exc:
        pytest.fail(f"{exc}\n{_tail(log)}")
    assert posted.kind == "response", f"the handler raised: {posted.body!r}\n{_tail(log)}"
    assert posted.headers.get("content-type", "").startswith("application/json")
    return posted.json()


def test_real_handler_round_trips_direct_http_and_s3_events(tmp_path: Path) -> None:
    s3 = start_s3_endpoint()
    try:
        bucket = s3.create_bucket()
        photo = json.loads((EVENTS / "detect.json").read_text())["image"]["base64"]
        s3.client().put_object(Bucket=bucket, Key="photos/person_b_1.jpg", Body=base64.b64decode(photo))
        log = tmp_path / "runtime.log"
        with RuntimeApi() as api, _runtime("handler.handler", _lambda_env(api, tmp_path, s3.env()), log):
            health = _response(api, _event("health"), log)
            assert health == {"ok": True, "status": "ok", "pack": "embedded", "dim": 128, **NO_POLICY}

            detect = _response(api, _event("detect"), log)
            assert detect["ok"] is True and len(detect["faces"]) == 1
            assert detect["image"] == {"width": 160, "height": 201}

            unknown = _response(api, {"action": "no_such_action"}, log)
            assert unknown["ok"] is False and unknown["error"]["code"] == "bad_request"

            not_an_object = api.invoke(None, timeout=INVOKE_TIMEOUT, raw=b'"a string, not an object"')
            assert not_an_object.kind == "response", _tail(log)
            assert not_an_object.json()["error"]["code"] == "bad_request"

            from_s3 = _event("detect_s3")
            from_s3["image"]["s3"]["bucket"] = bucket
            s3_detect = _response(api, from_s3, log)
            assert s3_detect["ok"] is True and s3_detect["faces"] == detect["faces"]

            http_health = _response(api, _event("apigw_v2_health"), log)
            assert http_health["statusCode"] == 200
            assert json.loads(http_health["body"])["pack"] == "embedded"

            http_detect = _response(api, _event("apigw_v2_detect"), log)
            assert http_detect["statusCode"] == 200
            assert json.loads(http_detect["body"])["faces"] == detect["faces"]

            missing_route = _event("apigw_v2_health")
            missing_route["rawPath"] = missing_route["requestContext"]["http"]["path"] = "/no/such/route"
            missing_route["routeKey"] = missing_route["requestContext"]["routeKey"] = "GET /no/such/route"
            http_missing = _response(api, missing_route, log)
            assert http_missing["statusCode"] == 404
            assert json.loads(http_missing["body"])["error"]["code"] == "not_found"
            assert api.next_requests >= 8  # each invocation was fetched by a long-poll on /next
    finally:
        s3.stop()


@pytest.mark.parametrize(
    ("module_source", "handler", "error_type", "message_part", "extra_env"),
    [
        (
            "raise RuntimeError('model pack missing: simulated INIT failure')\n",
            "broken_handler.handler",
            "RuntimeError",
            "simulated INIT failure",
            {},
        ),
        (
            None,
            "handler_that_does_not_exist.handler",
            "Runtime.ImportModuleError",
            "handler_that_does_not_exist",
            {},
        ),
        ("value = 1\n", "broken_handler.handler", "Runtime.HandlerNotFound", "handler", {}),
        # The real handler with a setting that makes no sense: INIT fails, naming the variable.
        (
            None,
            "handler.handler",
            "FRSError",
            "FRS_DET_SIZE must be an integer, got 'big'",
            {"FRS_DET_SIZE": "big"},
        ),
    ],
    ids=["raises-at-import", "missing-module", "missing-function", "misconfigured"],
)
def test_init_failures_are_posted_to_init_error(
    tmp_path: Path,
    module_source: str | None,
    handler: str,
    error_type: str,
    message_part: str,
    extra_env: dict[str, str],
) -> None:
    if module_source is not None:
        (tmp_path / "broken_handler.py").write_text(module_source, encoding="utf-8")
    log = tmp_path / "runtime.log"
    with RuntimeApi() as api:
        env = _lambda_env(api, tmp_path, {"PYTHONPATH": str(tmp_path), **extra_env})
        with _runtime(handler, env, log) as process:
            posted = api.wait_for_init_error(timeout=START_TIMEOUT)
            assert process.wait(timeout=START_TIMEOUT) == 1, _tail(log)
        assert api.next_requests == 0  # a failed INIT never asks for work
    error = posted.json()
    assert error["errorType"] == error_type
    assert posted.headers["lambda-runtime-function-error-type"] == error_type
    assert message_part in error["errorMessage"]
    assert isinstance(error["stackTrace"], list)


def _build_task_root(task_root: Path) -> None:
    """Copy what the Dockerfile's ``app`` stage copies into its WORKDIR, byte code excluded."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for instruction in parse_dockerfile(REPO_ROOT / "Dockerfile").stage("app").of("COPY"):
        copy = parse_copy(instruction)
        for source in copy.sources:
            for match in REPO_ROOT.glob(source.rstrip("/")):
                if match.is_dir():
                    shutil.copytree(match, task_root / copy.destination, ignore=ignore)
                else:
                    target = task_root / copy.destination
                    target = target / match.name if copy.destination.endswith("/") else target
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(match, target)


def _image_env(tmp_path: Path, task_root: Path, models_dir: Path) -> dict[str, str]:
    """The final stage's ENV with its image paths moved under tmp_path (and nothing from this shell)."""
    dockerfile = parse_dockerfile(REPO_ROOT / "Dockerfile")
    moves = {"/var/task": str(task_root), "/opt/frs/models": str(models_dir), "/tmp": str(tmp_path / "tmp")}
    env: dict[str, str] = {}
    for instruction in dockerfile.final.of("ENV"):
        for item in shlex.split(instruction.args):
            key, _, value = item.partition("=")
            for old, new in moves.items():
                if value == old or value.startswith(old + "/"):
                    value = new + value[len(old) :]
                    break
            env[key] = value
    env["PATH"] = os.environ["PATH"]  # the image's /opt/venv is this test run's interpreter
    env["FRS_PACK"] = "embedded"  # the pack present in this checkout (the image bakes FRS_PACK=buffalo_l)
    (tmp_path / "tmp").mkdir()
    return env


def test_image_layout_alone_serves_requests(tmp_path: Path, settings: Any) -> None:
    """Only what the image holds: the app stage's files as task root, manifests plus weights as models."""
    task_root = tmp_path / "var_task"
    _build_task_root(task_root)
    assert (task_root / "handler.py").is_file() and (task_root / "frs" / "__init__.py").is_file()
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    for manifest in (REPO_ROOT / "models").glob("*.json"):
        shutil.copy2(manifest, models_dir)
    (models_dir / "embedded").symlink_to(settings.models_dir / "embedded", target_is_directory=True)

    log = tmp_path / "runtime.log"
    with RuntimeApi() as api:
        env = _image_env(tmp_path, task_root, models_dir)
        env.update({k: v for k, v in _lambda_env(api, tmp_path).items() if k.startswith("AWS_")})
        env["FRS_GALLERY_URI"] = str(tmp_path / "tmp" / "galleries")
        where = subprocess.run(
            [sys.executable, "-c", "import frs; print(frs.__file__)"],
            cwd=task_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert Path(where.stdout.strip()).is_relative_to(task_root)  # not the checkout's package
        with _runtime("handler.handler", env, log, cwd=task_root):
            assert _response(api, _event("health"), log)["pack"] == "embedded"
            added = _response(api, _event("add"), log)
            assert added["ok"] is True, added
            identified = _response(api, _event("identify"), log)
            assert identified["faces"][0]["identity"] == "person_b"
    assert list(
        (tmp_path / "tmp" / "galleries").iterdir()
    )  # the gallery was written under the "/tmp" mapping
