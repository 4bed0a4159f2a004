"""Invariants of the Lambda image, checked by reading Dockerfile and .dockerignore (no Docker needed)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from frs.config import REPO_ROOT
from tests.deploy.dockerfile import (
    Dockerfile,
    DockerIgnore,
    Stage,
    parse_arg,
    parse_copy,
    parse_dockerfile,
    substitute,
)

# Packages that must never be installed into the image (test, lint, export and training tooling).
DEV_ONLY = {
    "torch",
    "torchvision",
    "pytest",
    "ruff",
    "mypy",
    "moto",
    "hypothesis",
    "matplotlib",
    "onnx",
    "cfn-lint",
}


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile(REPO_ROOT / "Dockerfile")


@pytest.fixture(scope="module")
def dockerignore() -> DockerIgnore:
    return DockerIgnore((REPO_ROOT / ".dockerignore").read_text(encoding="utf-8"))


def _stage_chain(dockerfile: Dockerfile, stage: Stage) -> list[Stage]:
    """``stage`` and the stages it is built FROM, nearest first."""
    chain = [stage]
    names = {s.name: s for s in dockerfile.stages if s.name}
    while chain[-1].base in names:
        chain.append(names[chain[-1].base])
    return chain


def _stages_copied_into_final(dockerfile: Dockerfile) -> dict[str, list[str]]:
    """stage name -> source paths the final stage copies from it."""
    copied: dict[str, list[str]] = {}
    for instruction in dockerfile.final.of("COPY"):
        copy = parse_copy(instruction)
        if copy.from_stage:
            copied.setdefault(copy.from_stage, []).extend(copy.sources)
    return copied


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower())
    return names


def test_entrypoint_is_the_lambda_runtime_interface_client(dockerfile: Dockerfile) -> None:
    entrypoints = dockerfile.final.of("ENTRYPOINT")
    commands = dockerfile.final.of("CMD")
    assert len(entrypoints) == 1 and len(commands) == 1
    assert entrypoints[0].exec_form() == ["python", "-m", "awslambdaric"]
    assert commands[0].exec_form() == ["handler.handler"]
    assert (REPO_ROOT / "requirements.txt").read_text().lower().count("awslambdaric==") == 1


def test_final_image_is_slim_python_311(dockerfile: Dockerfile) -> None:
    assert dockerfile.final.base == "python:3.11-slim-bookworm"
    for stage in dockerfile.stages:  # every stage that runs Python runs the same interpreter as the final one
        assert _stage_chain(dockerfile, stage)[-1].base == "python:3.11-slim-bookworm"


def test_pack_build_arg_defaults_to_open_and_is_fetched_in_a_build_stage(dockerfile: Dockerfile) -> None:
    fetch_stages = [
        stage for stage in dockerfile.stages if any("-m frs models fetch" in i.args for i in stage.of("RUN"))
    ]
    assert len(fetch_stages) == 1 and fetch_stages[0] is not dockerfile.final
    for stage in (fetch_stages[0], dockerfile.final):
        args = dict(parse_arg(i.args) for i in stage.of("ARG"))
        assert args.get("FRS_PACK") == "open", stage.name
    fetch = next(i for i in fetch_stages[0].of("RUN") if "-m frs models fetch" in i.args)
    assert '--pack "${FRS_PACK}"' in fetch.args


def test_no_dev_dependency_reaches_the_image(dockerfile: Dockerfile) -> None:
    assert not _requirement_names(REPO_ROOT / "requirements.txt") & DEV_ONLY
    for stage in dockerfile.stages:
        for run in stage.of("RUN"):
            assert "torch" not in run.args
            assert not re.search(r"-r\s+\S*requirements-dev", run.args), "never install the whole dev set"
    # A stage that pip-installs anything beyond requirements.txt must not hand its venv to the final stage.
    for name, sources in _stages_copied_into_final(dockerfile).items():
        chain = _stage_chain(dockerfile, dockerfile.stage(name))
        extra = [
            i.line
            for s in chain
            for i in s.of("RUN")
            if "pip install" in i.args and "-r /tmp/requirements.txt" not in i.args
        ]
        if extra:
            assert not any(src.startswith("/opt/venv") for src in sources), (name, extra)
    assert not any("pip install" in i.args for i in dockerfile.final.of("RUN"))


def test_the_venv_comes_from_a_stage_that_installs_only_requirements_txt(dockerfile: Dockerfile) -> None:
    copied = _stages_copied_into_final(dockerfile)
    venv_stages = [name for name, sources in copied.items() if "/opt/venv" in sources]
    assert len(venv_stages) == 1
    installs = [
        i.args
        for s in _stage_chain(dockerfile, dockerfile.stage(venv_stages[0]))
        for i in s.of("RUN")
        if "pip install" in i.args
    ]
    assert len(installs) == 1
    requirement_files = re.findall(r"-r\s+(\S+)", installs[0])
    assert len(requirement_files) == 1
    chain = _stage_chain(dockerfile, dockerfile.stage(venv_stages[0]))
    copies = [parse_copy(i) for s in chain for i in s.of("COPY")]
    assert any(c.sources == ["requirements.txt"] and c.destination == requirement_files[0] for c in copies)


def test_sets_no_user_and_makes_nothing_writable(dockerfile: Dockerfile) -> None:
    # No USER: `sam local` adds its emulator in a RUN step that runs as the image's USER and needs root,
    # and Lambda
    # runs the function as its own non-root user anyway. tests/image runs the image as an arbitrary uid.
    assert not any(stage.of("USER") for stage in dockerfile.stages)
    assert not dockerfile.final.of("RUN")  # the final stage only copies finished, read-only trees
    copied = _stages_copied_into_final(dockerfile)
    for name in copied:
        chain = _stage_chain(dockerfile, dockerfile.stage(name))
        assert any("go-w" in i.args for s in chain for i in s.of("RUN")), (
            f"{name} leaves files group/other-writable"
        )


def test_the_runtime_venv_is_slimmed(dockerfile: Dockerfile, dockerignore: DockerIgnore) -> None:
    slim = dockerfile.stage("slim")
    assert slim.base == "deps"
    (run,) = slim.of("RUN")
    assert run.args == "sh /tmp/slim-venv.sh /opt/venv"
    assert [parse_copy(i).sources for i in slim.of("COPY")] == [["scripts/image/slim-venv.sh"]]
    assert _stages_copied_into_final(dockerfile)["slim"] == ["/opt/venv"]
    script = (REPO_ROOT / "scripts" / "image" / "slim-venv.sh").read_text(encoding="utf-8")
    for removed in ("/pip ", "/setuptools ", "-name tests", "onnxruntime/transformers", "botocore/data"):
        assert removed in script, removed


def _env(stage: Stage, global_args: dict[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage.of("ENV"):
        for item in shlex.split(instruction.args):
            key, _, value = item.partition("=")
            env[key] = substitute(value, {**global_args, **env})
    return env


def test_environment_points_at_the_baked_models_and_tmp(dockerfile: Dockerfile) -> None:
    env = _env(dockerfile.final, dockerfile.global_args)
    assert env["HOME"].startswith("/tmp") and env["FRS_CACHE_DIR"].startswith("/tmp")
    assert env["FRS_PACK"] == "${FRS_PACK}"  # the build arg, resolved by Docker
    assert env["OMP_NUM_THREADS"] == "1"
    models_copy = [parse_copy(i) for i in dockerfile.final.of("COPY") if parse_copy(i).from_stage == "models"]
    assert len(models_copy) == 1 and models_copy[0].destination == env["FRS_MODELS_DIR"]
    assert env["PYTHONPATH"] == env["LAMBDA_TASK_ROOT"] == "/var/task"
    workdirs = dockerfile.final.of("WORKDIR")
    assert workdirs and workdirs[-1].args == "/var/task"


def test_layers_go_from_rarely_to_often_changed(dockerfile: Dockerfile) -> None:
    # Requirements are installed before any code is copied, in every stage that has both.
    for stage in dockerfile.stages:
        copies = [(n, parse_copy(i)) for n, i in enumerate(stage.instructions) if i.keyword == "COPY"]
        requirement_at = [n for n, c in copies if any("requirements" in s for s in c.sources)]
        code_at = [n for n, c in copies if any(s.startswith(("frs", "handler")) for s in c.sources)]
        if requirement_at and code_at:
            assert max(requirement_at) < min(code_at), stage.name
    # The final stage adds the (slimmed) venv, then the weights, then the code.
    order = [parse_copy(i).from_stage for i in dockerfile.final.of("COPY")]
    assert order == ["slim", "models", "app"]


def test_copied_sources_exist_and_survive_dockerignore(
    dockerfile: Dockerfile, dockerignore: DockerIgnore
) -> None:
    for stage in dockerfile.stages:
        for instruction in stage.of("COPY"):
            copy = parse_copy(instruction)
            if copy.from_stage:
                assert copy.from_stage in {s.name for s in dockerfile.stages}
                continue
            for source in copy.sources:
                matches = [p for p in REPO_ROOT.glob(source.rstrip("/")) if p.exists()]
                assert matches, f"COPY {source} (line {instruction.line}) matches nothing in the repo"
                for match in matches:
                    files = [f for f in match.rglob("*") if f.is_file()] if match.is_dir() else [match]
                    relatives = [f.relative_to(REPO_ROOT).as_posix() for f in files]
                    # A folder may be partly excluded (models/<pack>/ weights), never wholly.
                    assert any(not dockerignore.excluded(r) for r in relatives), (
                        f"{match} is copied but ignored"
                    )


def test_files_next_to_the_manifests_ship_and_fetched_weights_do_not(dockerignore: DockerIgnore) -> None:
    top_level = [p for p in (REPO_ROOT / "models").iterdir() if p.is_file()]
    assert top_level
    for path in top_level:  # manifests and licence texts
        assert not dockerignore.excluded(path.relative_to(REPO_ROOT).as_posix()), path
    for path in (REPO_ROOT / "models" / "licences").iterdir():  # licence texts the fetch installs
        assert not dockerignore.excluded(path.relative_to(REPO_ROOT).as_posix()), path
    for path in (REPO_ROOT / "models").glob("*/*"):  # fetched packs
        if path.parent.name != "licences":
            assert dockerignore.excluded(path.relative_to(REPO_ROOT).as_posix()), path


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".cache/testdata/newton.png",
        "tests/conftest.py",
        ".git/HEAD",
        "models/embedded/sface_2021dec.onnx",
        "models/buffalo_l/w600k_r50.onnx",
        "gallery/default/identities.json",
        "frs/__pycache__/config.cpython-311.pyc",
        ".env",
        "frs.egg-info/PKG-INFO",
        "models/embedded/fetched.json",
        ".aws-sam/build/template.yaml",
        ".venv-image/bin/sam",
        "scripts/image/build.sh",
    ],
)
def test_dockerignore_keeps_out(dockerignore: DockerIgnore, path: str) -> None:
    assert dockerignore.excluded(path)


@pytest.mark.parametrize(
    "path",
    [
        "requirements.txt",
        "handler.py",
        "frs/config.py",
        "frs/packs/fetch.py",
        "models/embedded.json",
        "models/LICENSE-yunet.txt",  # licence texts next to the manifests ship with the image
        "scripts/image/slim-venv.sh",
    ],
)
def test_dockerignore_lets_in(dockerignore: DockerIgnore, path: str) -> None:
    assert not dockerignore.excluded(path)


def test_licence_texts_reach_the_models_stage(dockerfile: Dockerfile, dockerignore: DockerIgnore) -> None:
    """`frs models fetch` refuses to install weights without the licence text their manifest names, so every
    such text must be in the build context and copied into the stage that fetches."""
    from frs.packs.manifest import known_packs, licence_path, load_manifest

    models_stage = dockerfile.stage("models")
    copied = [src.rstrip("/") for i in models_stage.of("COPY") for src in parse_copy(i).sources]
    texts = set()
    for pack in known_packs(REPO_ROOT / "models"):
        manifest = load_manifest(pack, REPO_ROOT / "models")
        for spec in (manifest.detector, manifest.recognizer):
            path = licence_path(manifest, spec)
            if path is not None:
                texts.add(path.resolve().relative_to(REPO_ROOT).as_posix())
    assert texts  # the open pack ships two
    for text in texts:
        assert not dockerignore.excluded(text), text
        assert any(text == src or text.startswith(src + "/") for src in copied), text
