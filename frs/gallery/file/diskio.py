"""Local-disk helpers: durable atomic file writes and a uniform answer to a full disk."""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import threading
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


# flock is per open file, but on NFS Linux emulates it with per-process POSIX locks, which do not exclude
# threads of one process; this in-process lock per lock file covers that case.
_THREAD_LOCKS: dict[Path, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextmanager
def exclusive(lock_path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path``: excludes other processes and threads."""
    with _THREAD_LOCKS_GUARD:
        thread_lock = _THREAD_LOCKS.setdefault(lock_path, threading.Lock())
    with thread_lock, disk_errors(what), lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
