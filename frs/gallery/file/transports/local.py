"""Gallery files in a local (or network-mounted) directory, with the same semantics as S3.

The ETag of a file is derived from its inode, modification time and size; every write publishes a
brand-new file with ``os.replace``, so every write changes the ETag and readers never see a
half-written file. Writers compare-and-swap under an exclusive ``flock`` on a sidecar lock file
(``.<key>.lock``), so concurrent processes can never lose each other's updates: a writer whose base
version is stale gets PreconditionFailed, exactly as from S3's ``If-Match``.
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager
from pathlib import Path

from frs.errors import FRSError
from frs.gallery.file.diskio import disk_errors, exclusive, publish, remove_quietly, temp_path
from frs.gallery.file.transports.protocol import GALLERY_SUFFIX, FetchResult, PreconditionFailed


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_ino:x}-{stat.st_mtime_ns:x}-{stat.st_size:x}"'


class LocalTransport:
    """Conditional storage of whole files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser().resolve()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FRSError(
                "storage_misconfigured",
                f"gallery directory {self.directory} cannot be created: {exc.strerror}",
            ) from exc
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise FRSError("storage_misconfigured", f"gallery directory {self.directory} is not writable")

    def describe(self, key: str) -> str:
        return str(self.directory / key)

    def fetch(self, key: str, destination: Path, if_none_match: str | None) -> FetchResult:
        try:
            source = (self.directory / key).open("rb")
        except FileNotFoundError:
            return FetchResult("missing")
        with source:
            # fstat the open file: the ETag describes exactly the bytes we copy, even if a writer replaces it.
            etag = _etag(os.fstat(source.fileno()))
            if etag == if_none_match:
                return FetchResult("not_modified", etag)
            with disk_errors(f"caching {self.describe(key)}"), destination.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        return FetchResult("downloaded", etag)

    def put(self, key: str, source: Path, if_match: str | None) -> str:
        target = self.directory / key
        with self._exclusive(key):
            try:
                current: str | None = _etag(os.stat(target))
            except FileNotFoundError:
                current = None
            if current != if_match:
                raise PreconditionFailed(f"{target} is at version {current}, not {if_match}")
            temp = None
            try:
                with disk_errors(f"writing {target}"):
                    temp = temp_path(self.directory, key)
                    shutil.copyfile(source, temp)
                    publish(temp, target)
                temp = None
                return _etag(os.stat(target))
            finally:
                remove_quietly(temp)

    def list_keys(self) -> list[str]:
        return sorted(
            p.name
            for p in self.directory.glob(f"*{GALLERY_SUFFIX}")
            if p.is_file() and not p.name.startswith(".")
        )

    def _exclusive(self, key: str) -> AbstractContextManager[None]:
        lock_path = self.directory / f".{key}.lock"
        return exclusive(lock_path, f"locking {lock_path}")
