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


def test_pack_build_arg_defaults_to_buffalo_l_and_is_fetched_in_a_build_stage(dockerfile: Dockerfile) -> None:
    fetch_stages = [
        stage for stage in dockerfile.stages if any("-m frs models fetch" in i.args for i in stage.of("RUN"))
    ]
    assert len(fetch_stages) == 1 and fetch_stages[0] is not dockerfile.final
    for stage in (fetch_stages[0], dockerfile.final):
        args = dict(parse_arg(i.args) for i in stage.of("ARG"))
        assert args.get("FRS_PACK") == "buffalo_l", stage.name
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
    copies = [parse_copy(i) for i in dockerfile.stage(venv_stages[0]).of("COPY")]
    assert any(c.sources == ["requirements.txt"] and c.destination == requirement_files[0] for c in copies)


def test_runs_as_a_non_root_user(dockerfile: Dockerfile) -> None:
    users = dockerfile.final.of("USER")
    assert users, "the final stage must set USER"
    last = users[-1].args.split(":", 1)[0]
    assert last not in {"root", "0", ""}
    assert dockerfile.final.instructions.index(users[-1]) > max(
        dockerfile.final.instructions.index(i) for i in dockerfile.final.of("RUN")
    )


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
    # The final stage adds the venv, then the weights, then the code.
    order = [parse_copy(i).from_stage for i in dockerfile.final.of("COPY")]
    assert order == ["deps", "models", "app"]


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
                    relative = match.relative_to(REPO_ROOT).as_posix()
                    assert not dockerignore.excluded(relative), f"{relative} is copied but dockerignored"


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
    ],
)
def test_dockerignore_keeps_out(dockerignore: DockerIgnore, path: str) -> None:
    assert dockerignore.excluded(path)


@pytest.mark.parametrize(
    "path",
    ["requirements.txt", "handler.py", "frs/config.py", "frs/packs/fetch.py", "models/embedded.json"],
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
