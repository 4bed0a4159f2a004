"""Import an export file into a gallery: check the whole file first, then one atomic ``import_records``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from frs.errors import FRSError
from frs.gallery.transfer.reader import ExportFile, FileSummary
from frs.gallery.types import Gallery, Identity, StoredFace
from frs.packs.info import PackInfo


def refuse_other_pack(target: Gallery, pack: PackInfo, writing: str) -> None:
    """``pack_mismatch`` (before any write) when ``target`` is bound to another pack than ``pack``, the pack
    of what ``writing`` names; one gallery never mixes packs."""
    bound = target.pack()
    if bound is not None and bound != pack:
        raise FRSError(
            "pack_mismatch",
            f"the target holds embeddings of pack {bound.name!r} (dim {bound.dim}), {writing} of "
            f"{pack.name!r} (dim {pack.dim}): one gallery never mixes packs",
        )


#: Called with (faces read so far, faces in the file).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportReport:
    summary: FileSummary
    identities_added: int
    faces_added: int
    faces_skipped: int


def import_export(
    gallery: Gallery, path: Path, *, replace: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Import ``path`` into ``gallery``: idempotent (what the gallery already holds is kept, so a second run
    adds nothing); ``replace``: the gallery holds exactly the file's records afterwards (a restore).

    ``invalid_export`` for a bad, truncated or corrupt file and ``pack_mismatch`` for a gallery bound to
    another pack; either way nothing is written.
    """
    export = ExportFile(path)
    summary = export.validate()
    pack = summary.header.pack
    if pack is None:  # the export of a gallery that was never written
        if replace:
            raise FRSError("invalid_export", f"{path} holds no records, so there is nothing to restore")
        return ImportReport(summary, 0, 0, 0)
    refuse_other_pack(gallery, pack, "the file")

    def records() -> Iterator[Identity | StoredFace]:
        faces = 0
        for record in export.records(summary):
            if isinstance(record, StoredFace):
                faces += 1
                if progress is not None and faces % 1000 == 0:
                    progress(faces, summary.faces)
            yield record
        if progress is not None:
            progress(faces, summary.faces)

    with gallery.bulk_load(summary.faces):
        result = gallery.import_records(records, pack=pack, replace=replace)
    return ImportReport(summary, result.identities_added, result.faces_added, result.faces_skipped)
