"""Where gallery files live: the interface shared by the local-directory and S3 transports.

A transport stores whole files under a key (``<gallery>.sqlite``) with an ETag that changes on every
write, and offers exactly two primitives: a conditional download and a compare-and-swap upload.
Everything else (caching, retries on conflicts, compaction) is in :mod:`frs.gallery.file.sync`, identical
for every transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

GALLERY_SUFFIX = ".sqlite"


class PreconditionFailed(Exception):  # noqa: N818 - named after the HTTP status it mirrors
    """The object changed (or appeared, or vanished) since the ETag the writer based its change on."""


@dataclass(frozen=True)
class FetchResult:
    """Outcome of a conditional download.

    ``downloaded``: the object was written to the destination path and ``etag`` is its version.
    ``not_modified``: the object still has the ETag the caller sent; nothing was written.
    ``missing``: there is no such object; nothing was written.
    """

    status: Literal["downloaded", "not_modified", "missing"]
    etag: str | None = None


class Transport(Protocol):
    """Conditional whole-object storage for gallery files."""

    def describe(self, key: str) -> str:
        """A human-readable location for messages (never contains credentials)."""
        ...

    def fetch(self, key: str, destination: Path, if_none_match: str | None) -> FetchResult:
        """Download ``key`` into ``destination`` unless its ETag equals ``if_none_match``."""
        ...

    def put(self, key: str, source: Path, if_match: str | None) -> str:
        """Upload ``source`` as ``key`` and return the new ETag.

        ``if_match=None`` means the object must not exist yet. Raises :class:`PreconditionFailed` when the
        stored object is not the expected version.
        """
        ...

    def list_keys(self) -> list[str]:
        """Keys of all gallery files (``*.sqlite``) at this location."""
        ...
