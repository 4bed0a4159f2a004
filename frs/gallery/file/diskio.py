"""Local-disk helpers: durable atomic file writes and a uniform answer to a full disk."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from frs.errors import FRSError

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@contextmanager
def disk_errors(what: str) -> Iterator[None]:
    """Turn a full disk (ENOSPC, quota, file too big) into FRSError('insufficient_storage')."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL:
            raise FRSError("insufficient_storage", f"no space left on the local disk while {what}") from exc
        raise


def temp_path(directory: Path, stem: str, suffix: str = ".tmp") -> Path:
    """A fresh, unique, empty file in ``directory`` (so a later os.replace stays on one filesystem)."""
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=directory)
    os.close(fd)
    return Path(name)


def fsync_file(path: Path) -> None:
    """Flush a file's contents to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry change (a rename) to stable storage; best effort where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish(temp: Path, final: Path) -> None:
    """Atomically move a complete temp file into place: readers see the old or the new file, never half."""
    fsync_file(temp)
    os.replace(temp, final)
    fsync_dir(final.parent)


def remove_quietly(path: Path | None) -> None:
    """Delete a file if it exists; cleanup must never mask the error that triggered it."""
    if path is None:
        return
    with suppress(OSError):
        path.unlink()
