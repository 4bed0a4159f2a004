"""A moto S3 server that `sam local` containers can reach, and the Docker network they reach it on.

SAM CLI 1.170 starts every function container on Docker's default bridge, also with `--docker-network host`
(it only skips connecting the container to a named network: see samcli/local/docker/container.py), so a server
on the host's 127.0.0.1 is out of the function's reach. Instead the tests' moto server (harness/s3.py)
runs in a container of its own on a network the tests create; functions join that network (`--docker-network
NAME`) and find it as http://frs-s3:5000 - the endpoint in events/env/s3.json - while the tests reach it on
127.0.0.1."""

from __future__ import annotations

import os
import sysconfig
import time
import uuid
from dataclasses import dataclass

from frs.config import REPO_ROOT
from harness.s3 import S3Endpoint, free_port
from tests.image.emulator import docker

ALIAS = "frs-s3"
PORT_IN_NETWORK = 5000
_SERVE = (
    "import threading\n"
    "from harness.s3 import AtomicMotoServer\n"
    f"AtomicMotoServer('0.0.0.0', {PORT_IN_NETWORK}).start()\n"
    "threading.Event().wait()\n"
)


@dataclass
class S3Network:
    network: str
    container: str
    endpoint: S3Endpoint  # from the host: http://127.0.0.1:<published port>
    url_in_network: str = f"http://{ALIAS}:{PORT_IN_NETWORK}"

    def stop(self) -> None:
        docker("rm", "--force", self.container, check=False)
        docker("network", "rm", self.network, check=False)


def start_s3_network(image: str) -> S3Network:
    """moto in a container started from `image` (its Python), with this checkout's test code and packages."""
    suffix = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
    network, container, port = f"frs-image-test-{suffix}", f"frs-s3-{suffix}", free_port()
    site_packages = sysconfig.get_paths()["purelib"]
    docker("network", "create", network)
    running = S3Network(
        network,
        container,
        S3Endpoint(url=f"http://127.0.0.1:{port}", access_key="testing", secret_key="testing"),
    )
    try:
        docker(
            "run", "--detach", "--name", container, "--network", network, "--network-alias", ALIAS,
            "--publish", f"127.0.0.1:{port}:{PORT_IN_NETWORK}",
            "--volume", f"{REPO_ROOT}:/repo:ro", "--volume", f"{site_packages}:/site:ro",
            "--env", "PYTHONPATH=/repo:/site", "--workdir", "/repo",
            "--entrypoint", "python", image, "-c", _SERVE,
        )  # fmt: skip
        _wait_until_serving(running)
    except BaseException:
        running.stop()
        raise
    return running


def _wait_until_serving(running: S3Network, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            running.endpoint.client().list_buckets()
            return
        except Exception:
            if time.monotonic() > deadline:
                logs = docker("logs", running.container, check=False)
                raise TimeoutError(f"moto did not start:\n{logs.stdout}{logs.stderr}") from None
            time.sleep(0.5)
