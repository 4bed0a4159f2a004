"""``frs gallery export|import|copy|restore|reindex``: move, back up and re-enrol whole galleries.

Each works on ``--gallery`` (default ``default``) at ``--gallery-uri`` (default ``FRS_GALLERY_URI``);
``copy`` reads ``--from`` (default: that same location) and writes ``--to``; ``reindex`` reads the gallery
at ``--gallery-uri`` and writes ``--to`` with ``--to-pack``. A progress bar goes to stderr
when stderr is a terminal, or always with ``--progress``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from frs.errors import FRSError
from frs.gallery.transfer.copy import DEFAULT_CHUNK, copy_gallery
from frs.gallery.transfer.importer import ImportReport, import_export
from frs.gallery.transfer.reindex import DEFAULT_BATCH, reindex_gallery
from frs.gallery.transfer.restore import restore_export, restore_version
from frs.gallery.transfer.writer import export_to_path, write_export
from frs.service import FaceService

_PROGRESS_HELP = "show a progress bar on stderr even when it is not a terminal (default: only on a terminal)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gallery = sub.add_parser(
        "gallery",
        help="move, back up and re-enrol whole galleries (export, import, copy, restore, reindex)",
        description="Move and back up whole galleries; see README 'Moving and backing up a gallery'.",
    )
    commands = gallery.add_subparsers(dest="gallery_command", required=True, metavar="COMMAND")

    export = commands.add_parser(
        "export",
        help="write the gallery to an export file (gzip JSON Lines)",
        description="Stream --gallery at --gallery-uri into FILE: a versioned gzip JSON Lines file with the "
        "identities, the faces' embeddings and records, and a trailer with counts and a digest. No photos.",
    )
    export.add_argument("--out", required=True, metavar="FILE", help="the export file ('-': standard output)")
    export.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    export.set_defaults(run=_export, operation="gallery_export")

    importing = commands.add_parser(
        "import",
        help="add an export file's identities and faces to the gallery",
        description="Check the whole FILE (header, every line, counts, digest), then add its records to "
        "--gallery in one atomic write, keeping ids and times. Re-running adds nothing; a file of another "
        "pack is refused (pack_mismatch), a bad or truncated one (invalid_export); either way nothing is "
        "written. FILE is read twice, so it must be a file, not a pipe.",
    )
    importing.add_argument("file", help="an export file (from `frs gallery export`)")
    importing.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    importing.set_defaults(run=_import, operation="gallery_import")

    copy = commands.add_parser(
        "copy",
        help="copy the gallery to another backend (directory, s3://, postgresql://), resumable",
        description="Copy --gallery from --from to --to, in chunks of faces, each one write: an interrupted "
        "copy continues where it stopped when run again. At the end the counts and a content checksum of "
        "both sides must match (else transfer_mismatch). The source is never written.",
    )
    copy.add_argument("--from", dest="source", metavar="URI", help="source location (default: --gallery-uri)")
    copy.add_argument("--to", dest="target", metavar="URI", required=True, help="target location")
    copy.add_argument(
        "--chunk-faces",
        type=int,
        default=DEFAULT_CHUNK,
        help=f"faces per write to the target (default {DEFAULT_CHUNK})",
    )
    copy.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    copy.set_defaults(run=_copy, operation="gallery_copy")

    restore = commands.add_parser(
        "restore",
        help="restore the gallery to an earlier S3 version or from an export file",
        description="--version-id V: make version V of the gallery's S3 object (a versioned bucket) current "
        "again, through the usual conditional upload. --from-export FILE: replace the gallery's records by "
        "the file's (checked first, one atomic write; any backend).",
    )
    source = restore.add_mutually_exclusive_group(required=True)
    source.add_argument("--version-id", help="the S3 VersionId (aws s3api list-object-versions)")
    source.add_argument("--from-export", metavar="FILE", help="an export file")
    restore.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    restore.set_defaults(run=_restore, operation="gallery_restore")

    reindex = commands.add_parser(
        "reindex",
        help="re-enrol the gallery with another pack into --to, from the faces' sources (s3:// or http(s))",
        description="Re-enrol --gallery at --gallery-uri into --gallery at --to with pack --to-pack: the "
        "identities (metadata, expiry) are created, and each face with a source (s3:// or http(s)) is "
        "fetched, analysed with the new pack (the face overlapping the stored box most) and enrolled "
        "through the enrolment quality filter. Prints a report of the faces it could not re-enrol "
        "(no_source, photo_gone, unreadable, no_face, low_quality). Re-running adds nothing; a target of "
        "another pack is refused (pack_mismatch) before any write. The source is never written.",
    )
    reindex.add_argument("--to-pack", required=True, metavar="PACK", help="the pack to re-enrol with")
    reindex.add_argument("--to", dest="target", metavar="URI", required=True, help="target location")
    reindex.add_argument(
        "--batch-faces",
        type=int,
        default=DEFAULT_BATCH,
        help=f"faces per write to the target (default {DEFAULT_BATCH})",
    )
    reindex.add_argument("--progress", action="store_true", help=_PROGRESS_HELP)
    reindex.set_defaults(run=_reindex, operation="gallery_reindex")


@contextmanager
def _bar(args: argparse.Namespace, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback (done, total) drawing a tqdm bar on stderr: on a terminal, or with --progress."""
    from tqdm import tqdm

    with tqdm(unit=unit, file=sys.stderr, disable=None if not args.progress else False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield update


def _import_dict(report: ImportReport) -> dict[str, Any]:
    header = report.summary.header
    return {
        "pack": None if header.pack is None else header.pack.name,
        "exported_gallery": header.gallery,
        "exported_at": header.created,
        "identities_in_file": report.summary.identities,
        "faces_in_file": report.summary.faces,
        "identities_added": report.identities_added,
        "faces_added": report.faces_added,
        "faces_skipped": report.faces_skipped,
    }


def _export(service: FaceService, args: argparse.Namespace) -> dict[str, Any] | None:
    gallery = service.gallery(args.gallery)
    with _bar(args, "face") as bar:
        progress = lambda done: bar(done, done)  # noqa: E731 - the total is not known while streaming
        if args.out == "-":
            summary = write_export(gallery, sys.stdout.buffer, progress=progress)
            sys.stdout.buffer.flush()
        else:
            summary = export_to_path(gallery, Path(args.out), progress=progress)
    result = {
        "gallery": args.gallery,
        "out": args.out,
        "identities": summary.identities,
        "faces": summary.faces,
    }
    if args.out == "-":  # stdout carries the file: the summary goes to stderr
        print(f"exported {summary.identities} identities, {summary.faces} faces", file=sys.stderr)
        return None
    return {**result, "sha256": summary.sha256}


def _import(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    if args.file == "-":
        raise FRSError("bad_request", "import reads its file twice (check, then write): give a file, not '-'")
    with _bar(args, "face") as bar:
        report = import_export(service.gallery(args.gallery), Path(args.file), progress=bar)
    return {"gallery": args.gallery, **_import_dict(report)}


def _copy(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    settings = service.settings
    source_uri = args.source or settings.gallery_uri
    if source_uri.rstrip("/") == args.target.rstrip("/"):
        raise FRSError("bad_request", "--from and --to are the same location")
    from frs.gallery.factory import open_gallery

    source = open_gallery(args.gallery, dataclasses.replace(settings, gallery_uri=source_uri))
    target = open_gallery(args.gallery, dataclasses.replace(settings, gallery_uri=args.target))
    with _bar(args, "face") as bar:
        report = copy_gallery(source, target, chunk_size=args.chunk_faces, progress=bar)
    return {
        "gallery": args.gallery,
        "identities_added": report.identities_added,
        "faces_added": report.faces_added,
        "faces_already_there": report.faces_present,
        "chunks_written": report.chunks_written,
        "identities": report.checksum.identities,
        "faces": report.checksum.faces,
        "checksum": report.checksum.digest,
        "verified": True,
    }


def _restore(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    gallery = service.gallery(args.gallery)
    if args.version_id is not None:
        etag = restore_version(gallery, args.version_id)
        return {"gallery": args.gallery, "restored_version": args.version_id, "etag": etag}
    with _bar(args, "face") as bar:
        report = restore_export(gallery, Path(args.from_export), progress=bar)
    return {"gallery": args.gallery, "restored_from": args.from_export, **_import_dict(report)}


def _reindex(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    settings = service.settings
    if settings.gallery_uri.rstrip("/") == args.target.rstrip("/"):
        raise FRSError("bad_request", "--to is the source's location (--gallery-uri): give another one")
    from frs.gallery.factory import open_gallery
    from frs.pipeline.analyzer import load_analyzer
    from frs.pipeline.quality import parse_filter_level

    analyzer = load_analyzer(dataclasses.replace(settings, pack=args.to_pack))
    source = service.gallery(args.gallery)
    target = open_gallery(args.gallery, dataclasses.replace(settings, gallery_uri=args.target))
    with _bar(args, "face") as bar:
        report = reindex_gallery(
            source,
            target,
            analyzer,
            level=parse_filter_level(settings.add_quality_filter),
            settings=settings,
            batch_size=args.batch_faces,
            progress=bar,
        )
    return {"gallery": args.gallery, "to": args.target, **report.to_dict()}
