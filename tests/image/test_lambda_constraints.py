"""The image as Lambda runs it: AWS's emulator in front of ENTRYPOINT + CMD, read-only root file system, a 512
MB /tmp tmpfs as the only writable path, an arbitrary non-root uid and a 2 GB memory limit."""

from __future__ import annotations

import json

from tests.image.conftest import PACK, event
from tests.image.emulator import MEMORY_MB, LambdaContainer, docker


def test_serves_a_gallery_in_tmp_as_an_arbitrary_non_root_user(image: str) -> None:
    with LambdaContainer(image, env={"FRS_GALLERY_URI": "/tmp/frs/galleries"}) as fn:
        assert fn.invoke(event("health"))["pack"] == PACK
        assert fn.invoke(event("add"))["created"] is True
        assert fn.invoke(event("identify"))["faces"][0]["identity"] == "person_b"

        assert fn.exec("id", "-u").stdout.strip() == str(fn.uid) != "0"
        assert fn.exec("ls", "/tmp/frs/galleries").stdout.split() == ["default.sqlite"]
        for path in ("/var/task/x", "/opt/venv/x", "/opt/frs/models/x", "/x"):
            assert fn.exec("touch", path).returncode != 0, f"{path} is writable"

        config = json.loads(docker("inspect", fn.name).stdout)[0]["HostConfig"]
        assert config["ReadonlyRootfs"] is True
        assert config["Memory"] == MEMORY_MB * 1024 * 1024
        assert config["Tmpfs"] == {"/tmp": "rw,size=512m,mode=1777"}


def test_the_diet_removed_the_installers_and_kept_every_runtime_import(image: str) -> None:
    probe = (
        "import importlib.util as u, json\n"
        "gone = ['pip', 'setuptools', 'wheel', 'pkg_resources', 'numpy.tests', 'onnxruntime.transformers']\n"
        "kept = ['awslambdaric', 'boto3', 'botocore', 'cv2', 'numpy', 'onnxruntime', 'PIL', 'psycopg',\n"
        "        'usearch', 'aws_lambda_powertools.event_handler.openapi.swagger_ui', 'pydantic', 'tqdm',\n"
        "        'handler']\n"
        "print(json.dumps({m: u.find_spec(m) is not None for m in gone + kept}))\n"
        "import handler, boto3, psycopg, usearch\n"
        "for service in ('s3', 'sns', 'secretsmanager', 'sts'):\n"
        "    boto3.client(service, region_name='us-east-1')\n"
    )
    result = docker(
        "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--user", "54321:54321",
        "--entrypoint", "python", image, "-c", probe, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[0])
    assert [m for m in ("pip", "setuptools", "wheel", "pkg_resources") if found[m]] == []
    assert not found["numpy.tests"] and not found["onnxruntime.transformers"]
    assert all(
        found[m]
        for m in found
        if m not in {"pip", "setuptools", "wheel", "pkg_resources", "numpy.tests", "onnxruntime.transformers"}
    )
