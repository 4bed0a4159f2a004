"""Write a gallery as an export file (:mod:`frs.gallery.transfer.format`), streaming: one record in memory."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from frs.errors import FRSError
from frs.gallery.transfer import format as fmt
from frs.gallery.types import Gallery

#: Called with the number of faces written so far (a progress bar).
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ExportSummary:
    identities: int
    faces: int
    sha256: str  # the trailer's digest


def write_export(gallery: Gallery, out: BinaryIO, *, progress: Progress | None = None) -> ExportSummary:
    """Stream ``gallery`` into ``out`` as gzip JSON Lines (header, identities, faces, trailer), as of one
    moment (``Gallery.snapshot``): a gallery written meanwhile still exports whole and consistent."""
    digest = hashlib.sha256()
    identities = faces = 0
    with gallery.snapshot(), gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as stream:

        def put(line: bytes) -> None:
            digest.update(line)
            stream.write(line)

        put(fmt.header_line(gallery.pack(), gallery.name, fmt.now_iso()))
        for identity in gallery.iter_identities():
            put(fmt.identity_line(identity))
            identities += 1
        for face in gallery.iter_faces():
            put(fmt.face_line(face))
            faces += 1
            if progress is not None and faces % 1000 == 0:
                progress(faces)
        stream.write(fmt.trailer_line(identities, faces, digest.hexdigest()))
    if progress is not None:
        progress(faces)
    return ExportSummary(identities=identities, faces=faces, sha256=digest.hexdigest())


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A temporary file next to ``path``, renamed over it only when the body succeeded."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def export_to_path(gallery: Gallery, path: Path, *, progress: Progress | None = None) -> ExportSummary:
    """Export into the file ``path``; a failed export leaves no (partial) file under that name."""
    try:
        with _atomic_file(path) as handle:
            return write_export(gallery, handle, progress=progress)
    except OSError as exc:
        raise FRSError("bad_request", f"cannot write {path}: {exc.strerror or exc}") from exc
