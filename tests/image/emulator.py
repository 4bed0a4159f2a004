"""The built image under AWS's own tools: the Lambda Runtime Interface Emulator (RIE) and the SAM CLI.

Both come from the pinned aws-sam-cli in .venv-image (requirements-image.txt), which ships the RIE binaries.
``LambdaContainer`` runs the image the way Lambda does - the RIE in front of the image's ENTRYPOINT + CMD -
with Lambda's constraints: read-only root file system, /tmp the only writable path (512 MB tmpfs), an
arbitrary non-root uid and a memory limit. ``sam`` runs the SAM CLI itself."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from frs.config import REPO_ROOT
from harness.s3 import free_port

IMAGE_VENV = REPO_ROOT / ".venv-image"
SAM = IMAGE_VENV / "bin" / "sam"
MEMORY_MB = 2048  # template.yaml's MemorySize default
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# The emulator's own log lines (log level info): INIT and each invocation, with their durations.
INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: ([0-9.]+)\)")
INVOKE_DONE = re.compile(r"INVOKE RTDONE\(status: (\w+), produced bytes: \d+, duration: ([0-9.]+)ms\)")


def rie_binary() -> Path:
    found = sorted(IMAGE_VENV.glob("lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"))
    if not found:
        raise FileNotFoundError(f"no aws-lambda-rie-x86_64 under {IMAGE_VENV}: run `make image-test`")
    return found[0]


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def arbitrary_uid() -> int:
    """A uid no image user has, as Lambda's own is (it is never root)."""
    return random.randint(20000, 60000)


@dataclass
class LambdaContainer:
    """``with LambdaContainer(image) as fn: fn.invoke(event)``: one execution environment, cold on its first
    call."""

    image: str
    env: dict[str, str] = field(default_factory=dict)
    uid: int = field(default_factory=arbitrary_uid)
    name: str = field(default_factory=lambda: f"frs-image-test-{os.getpid()}-{random.randint(0, 1 << 30)}")
    port: int = field(default_factory=free_port)

    def __enter__(self) -> LambdaContainer:
        runtime_api = f"127.0.0.1:{free_port()}"
        env = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB), "AWS_REGION": "us-east-1", **self.env}
        entrypoint = json.loads(
            docker("image", "inspect", "--format", "{{json .Config.Entrypoint}}", self.image).stdout
        )
        command = json.loads(
            docker("image", "inspect", "--format", "{{json .Config.Cmd}}", self.image).stdout
        )
        docker(
            "run", "--detach", "--name", self.name,
            "--network", "host",  # reaches a moto server on 127.0.0.1, as `sam local --docker-network host`
            "--read-only", "--tmpfs", "/tmp:rw,size=512m,mode=1777",
            "--user", f"{self.uid}:{self.uid}",
            "--memory", f"{MEMORY_MB}m", "--memory-swap", f"{MEMORY_MB}m",
            "--volume", f"{rie_binary()}:/aws-lambda-rie:ro",
            *[f"--env={k}={v}" for k, v in env.items()],
            "--entrypoint", "/aws-lambda-rie",
            self.image,
            "--log-level", "info",
            "--runtime-api-address", runtime_api,
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
            *entrypoint, *command,
        )  # fmt: skip
        self._wait_for_port()
        return self

    def __exit__(self, *exc: object) -> None:
        docker("rm", "--force", self.name, check=False)

    def _wait_for_port(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # the emulator answers (404 on /): it is listening
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"the emulator did not listen on {self.port}:\n{self.logs()}")

    def invoke_raw(self, event: Any, timeout: float = 120) -> tuple[int, bytes]:
        """The emulator's HTTP status and body for one invocation (502 when INIT failed)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{INVOKE_PATH}", data=json.dumps(event).encode(), method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def invoke(self, event: Any, timeout: float = 120) -> Any:
        status, body = self.invoke_raw(event, timeout)
        if status != 200:
            raise AssertionError(f"the emulator answered {status}: {body[:500]!r}\n{self.logs()[-3000:]}")
        return json.loads(body)

    def logs(self) -> str:
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def logs_with(self, pattern: re.Pattern[str], timeout: float = 10) -> str:
        """The log once ``pattern`` is in it (the emulator writes its lines just after it answers)."""
        deadline = time.monotonic() + timeout
        while not pattern.search(logs := self.logs()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return logs

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a command in the container as its function user (same uid, same constraints)."""
        return docker("exec", "--user", f"{self.uid}:{self.uid}", self.name, *command, check=False)


@dataclass(frozen=True)
class ColdStart:
    init_ms: float  # the emulator's INIT REPORT: python start, imports, model loading
    first_request_ms: float  # the first invocation's own duration (INVOKE RTDONE), after INIT


def cold_start_from_logs(logs: str) -> ColdStart:
    init = INIT_REPORT.findall(logs)
    done = INVOKE_DONE.findall(logs)
    if not init or not done:
        raise ValueError(f"no INIT REPORT / INVOKE RTDONE lines in the emulator's log:\n{logs[-2000:]}")
    return ColdStart(init_ms=float(init[0]), first_request_ms=float(done[0][1]))


def medians(samples: list[ColdStart]) -> dict[str, float]:
    return {
        "init_ms": round(median(s.init_ms for s in samples), 1),
        "first_request_ms": round(median(s.first_request_ms for s in samples), 1),
    }


def sam(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SAM), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
