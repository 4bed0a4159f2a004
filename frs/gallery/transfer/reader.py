"""Read and check an export file (see :mod:`frs.gallery.transfer.format`), streaming.

:meth:`ExportFile.validate` reads the whole file once and checks everything (header, every line, order, that
each face's identity is in the file, the counts and the digest) without keeping records; :meth:`records` reads
it again and yields the records, checking the same things as it goes (so a file changed between the passes
makes that generator raise, which an atomic import turns into "nothing written"). Memory: one line at a time
plus the set of identity names.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from frs.errors import FRSError
from frs.gallery.transfer import format as fmt
from frs.gallery.types import Identity, StoredFace

#: Longer lines are refused: a face line at 4096-d is about 22 KB, an identity line at most about 5 KB.
MAX_LINE = 1 << 20


@dataclass(frozen=True)
class FileSummary:
    header: fmt.Header
    identities: int
    faces: int
    sha256: str


class ExportFile:
    """An export file on disk (read twice, so not a pipe)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def validate(self) -> FileSummary:
        """Check the whole file; ``invalid_export`` naming the first bad line, else what it holds."""
        scan = _Scan(self.path)
        for _ in scan.records():
            pass
        assert scan.summary is not None
        return scan.summary

    def records(self, expected: FileSummary | None = None) -> Iterator[Identity | StoredFace]:
        """Identities then faces, as :meth:`validate` found them; raises ``invalid_export`` if the file
        no longer is the one ``expected`` describes."""
        scan = _Scan(self.path)
        yield from scan.records()
        if expected is not None and scan.summary != expected:
            raise FRSError("invalid_export", f"{self.path} changed while it was being imported")


class _Scan:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.summary: FileSummary | None = None

    def records(self) -> Iterator[Identity | StoredFace]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise FRSError("bad_request", f"cannot read {self.path}: {exc.strerror or exc}") from exc
        with handle, gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            try:
                yield from self._lines(stream)
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                raise FRSError("invalid_export", f"{self.path} is not a complete gzip file ({exc})") from None
            except OSError as exc:
                raise FRSError("invalid_export", f"cannot read {self.path}: {exc}") from None

    def _lines(self, stream: gzip.GzipFile) -> Iterator[Identity | StoredFace]:
        digest = hashlib.sha256()
        first = stream.readline(MAX_LINE)
        if not first:
            raise FRSError("invalid_export", f"{self.path} is empty")
        header = fmt.decode_header(first)
        digest.update(first)
        names: set[str] = set()
        faces = 0
        last_face_id = ""
        line_no = 1
        while True:
            raw = stream.readline(MAX_LINE)
            line_no += 1
            if not raw:
                raise fmt.invalid(line_no, "the file ends without its trailer (it is truncated)")
            if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
                raise fmt.invalid(line_no, f"longer than {MAX_LINE} bytes")
            value = fmt.parse_object(raw, line_no)
            kind = value.get("type")
            if kind == "end":
                trailer = fmt.decode_trailer(value, line_no)
                break
            digest.update(raw)
            if header.pack is None:
                raise fmt.invalid(line_no, "a gallery without a pack holds no records")
            if kind == "identity":
                if faces:
                    raise fmt.invalid(line_no, "identity records must come before face records")
                identity = fmt.decode_identity(value, line_no)
                if identity.name in names:
                    raise fmt.invalid(line_no, f"identity {identity.name!r} appears twice")
                names.add(identity.name)
                yield identity
            elif kind == "face":
                face = fmt.decode_face(value, line_no, header.pack)
                if face.record.face_id <= last_face_id:
                    raise fmt.invalid(line_no, "faces must be in strictly increasing face_id order")
                if face.record.identity not in names:
                    raise fmt.invalid(line_no, f"face of identity {face.record.identity!r}, not in the file")
                last_face_id = face.record.face_id
                faces += 1
                yield face
            else:
                raise fmt.invalid(line_no, f"unknown record type {kind!r}")
        if stream.read(1):
            raise fmt.invalid(line_no + 1, "data after the trailer")
        if (trailer.identities, trailer.faces) != (len(names), faces):
            raise fmt.invalid(
                line_no,
                f"the trailer counts {trailer.identities} identities and {trailer.faces} faces, "
                f"the file holds {len(names)} and {faces}",
            )
        if trailer.sha256 != digest.hexdigest():
            raise fmt.invalid(line_no, "the digest does not match the file's records (it is corrupt)")
        self.summary = FileSummary(header=header, identities=len(names), faces=faces, sha256=trailer.sha256)
