"""Gallery commands: add, identify, verify-identity, get, list, delete, delete-face, search-face, rename,
merge, move-face, update-metadata, enroll, update-gallery, purge, export-identity.

Each works on ``--gallery`` (default ``default``) at ``--gallery-uri`` (default ``FRS_GALLERY_URI``). Each
names the API operation it performs (``operation``), so that :mod:`frs.cli.audited` records it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from frs.cli.output import add_option, read_image
from frs.errors import FRSError
from frs.gallery.types import KEEP, ExpiryChange
from frs.service import FaceService

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
ENROL_BATCH = 32  # images per gallery write: one upload per batch, not per photo


def _metadata(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FRSError("bad_request", f"--metadata is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise FRSError("bad_request", "--metadata must be a JSON object")
    return value


def _expiry_change(raw: str) -> ExpiryChange:
    """``--expires-at``: an ISO 8601 time, or ``none`` to clear the expiry (checked by the service)."""
    return None if raw.strip().lower() in ("none", "null") else raw


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = sub.add_parser(
        "add",
        help="enrol photos of one identity",
        description="Enrol one or more photos of NAME in one gallery write. Always answers "
        '{"results": [one entry per image, in order]}: the enrolment (face_id, identity, bbox, face_count, '
        'created) or {"identity", "error"}, each with its "image". Photos below the quality filter are '
        'refused with "low_quality" and its reasons. Fails (exit 2 or 1) only if no image could be enrolled.',
    )
    add.add_argument("name", help="identity to enrol (created if new)")
    add.add_argument("images", nargs="+", metavar="image", help="photo files with one face each")
    add.add_argument("--metadata", help="JSON object stored with the identity (<= 4 KiB)")
    add.add_argument("--largest", action="store_true", help="use the largest face when there are several")
    add_option(add, "add", "quality_filter")
    add.add_argument(
        "--source",
        action="append",
        help="where the photo can be fetched again (s3://bucket/key or URL), kept for `frs gallery reindex`; "
        "once per image, in order",
    )
    add_option(add, "add", "expires_at")
    add.set_defaults(run=_add, operation="add")

    identify = sub.add_parser("identify", help="who is in this picture? (every face)")
    identify.add_argument("image", help="photo file; every face in it is identified")
    for option in ("top_k", "target_fpir", "quality_filter"):
        add_option(identify, "identify", option)
    identify.set_defaults(
        run=lambda s, a: s.identify(
            a.gallery,
            read_image(a.image),
            top_k=a.top_k,
            target_fpir=a.target_fpir,
            quality_filter=a.quality_filter,
        ),
        operation="identify",
    )

    verify = sub.add_parser("verify-identity", help="is the largest face in IMAGE this identity?")
    verify.add_argument("name", help="enrolled identity")
    verify.add_argument("image", help="photo file (its largest face)")
    add_option(verify, "verify", "target_far")
    verify.set_defaults(
        run=lambda s, a: s.verify_identity(a.gallery, a.name, read_image(a.image), target_far=a.target_far),
        operation="verify",
    )

    get = sub.add_parser("get", help="one identity with its faces")
    get.add_argument("name", help="enrolled identity")
    get.set_defaults(run=lambda s, a: s.get(a.gallery, a.name), operation="get")

    listing = sub.add_parser("list", help="identities, paginated")
    listing.add_argument("--prefix", help="only names starting with this")
    listing.add_argument(
        "--page-size", type=int, default=100, help="identities per page, 1-1000 (default 100)"
    )
    listing.add_argument("--page-token", help="next_page_token of the previous page")
    listing.set_defaults(
        run=lambda s, a: s.list_identities(
            a.gallery, prefix=a.prefix, page_size=a.page_size, page_token=a.page_token
        ),
        operation="list",
    )

    delete = sub.add_parser("delete", help="delete an identity and its faces")
    delete.add_argument("name", help="identity to delete with all its faces")
    delete.set_defaults(run=lambda s, a: s.delete(a.gallery, a.name), operation="delete")

    delete_face = sub.add_parser("delete-face", help="delete one face by id")
    delete_face.add_argument("face_id", help="face_id from add, get or enroll (a UUID)")
    delete_face.set_defaults(run=lambda s, a: s.delete_face(a.gallery, a.face_id), operation="delete_face")

    search = sub.add_parser("search-face", help="identities that look like an enrolled face (not its own)")
    search.add_argument("face_id", help="an enrolled face's id")
    for option in ("top_k", "target_fpir"):
        add_option(search, "search_face", option)
    search.set_defaults(
        run=lambda s, a: s.search_face(a.gallery, a.face_id, top_k=a.top_k, target_fpir=a.target_fpir),
        operation="search_face",
    )

    rename = sub.add_parser("rename", help="rename an identity")
    rename.add_argument("name", help="enrolled identity")
    rename.add_argument("new_name", help="its new name (must not be taken)")
    rename.set_defaults(run=lambda s, a: s.rename(a.gallery, a.name, a.new_name), operation="rename")

    merge = sub.add_parser(
        "merge",
        help="merge identities into NAME (faces move, sources deleted, one write)",
        description="Move every face of the FROM identities to NAME and delete them, in one write. Metadata: "
        "NAME's keys win, then each FROM identity, in order, adds the keys still missing.",
    )
    merge.add_argument("name", help="the identity that stays")
    merge.add_argument("sources", nargs="+", metavar="from", help="identities merged into it")
    merge.set_defaults(run=lambda s, a: s.merge(a.gallery, a.name, a.sources), operation="merge")

    move = sub.add_parser("move-face", help="move one face to another identity")
    move.add_argument("face_id", help="the face to move")
    move.add_argument("name", help="the (existing) identity it moves to")
    move.set_defaults(run=lambda s, a: s.move_face(a.gallery, a.face_id, a.name), operation="move_face")

    update = sub.add_parser(
        "update-metadata",
        help="change an identity's metadata or expiry without adding a face",
        description="Change NAME's metadata (as --mode says), its expiry (--expires-at), or both, in one "
        "write; at least one of them is required.",
    )
    update.add_argument("name", help="enrolled identity")
    update.add_argument("metadata", nargs="?", help="JSON object (absent: the metadata stays)")
    add_option(update, "update_metadata", "mode")
    update.add_argument(
        "--expires-at",
        dest="expires_at",
        type=_expiry_change,
        default=KEEP,
        metavar="T|none",
        help="ISO 8601 time the identity expires (no zone: UTC; a past time expires it at once); 'none' "
        "clears it; absent: the expiry stays",
    )
    update.set_defaults(
        run=lambda s, a: s.update_metadata(
            a.gallery, a.name, _metadata(a.metadata), mode=a.mode, expires_at=a.expires_at
        ),
        operation="update_metadata",
    )

    gallery = sub.add_parser(
        "update-gallery",
        help="set or clear the gallery's default retention",
        description="Identities created from now on expire --retention-days after creation; "
        "--clear-retention removes the default (existing identities keep their expiry).",
    )
    retention = gallery.add_mutually_exclusive_group(required=True)
    add_option(retention, "update", "retention_days")
    retention.add_argument(
        "--clear-retention", action="store_true", help="remove the gallery's default retention"
    )
    gallery.set_defaults(
        run=lambda s, a: s.update(a.gallery, retention_days=a.retention_days, clear=a.clear_retention),
        operation="update",
    )

    purge = sub.add_parser(
        "purge",
        help="erase every expired identity now (what the schedule runs)",
        description="Delete every expired identity of TARGET (default '*': every gallery at --gallery-uri) "
        "through delete's path; answers what was erased, with the face ids.",
    )
    purge.add_argument("target", nargs="?", default="*", help="a gallery name, or '*' (default) for all")
    purge.set_defaults(run=lambda s, a: s.purge(a.target), operation="purge")

    export = sub.add_parser(
        "export-identity", help="everything FRS holds about one person (a data-subject request)"
    )
    export.add_argument("name", help="enrolled identity")
    export.set_defaults(run=lambda s, a: s.export_identity(a.gallery, a.name), operation="export_identity")

    enroll = sub.add_parser("enroll", help="bulk-enrol DIR/<name>/*.{jpg,jpeg,png,webp}")
    enroll.add_argument("directory", help="folder with one sub-folder of photos per identity")
    enroll.add_argument("--largest", action="store_true", help="use the largest face when there are several")
    add_option(enroll, "add", "quality_filter")
    enroll.set_defaults(run=_enroll, operation="add")


def _add(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    """One shape for one image or many: ``{"results": [...]}``; an error only if nothing was enrolled."""
    metadata = _metadata(args.metadata)
    items = [(args.name, read_image(path), metadata) for path in args.images]
    sources = args.source or []
    if sources and len(sources) != len(args.images):
        raise FRSError("bad_request", "give --source once per image, or not at all")
    results = service.add_many(
        args.gallery,
        items,
        largest=args.largest,
        quality_filter=args.quality_filter,
        sources=sources or None,
        expires_at=args.expires_at,
    )
    for path, result in zip(args.images, results, strict=True):
        result["image"] = path
    if all("error" in r for r in results):
        first = results[0]["error"]
        details = first.get("details", {})
        if len(results) == 1:
            raise FRSError(first["code"], first["message"], **details)
        raise FRSError(first["code"], f"no image could be enrolled; first: {first['message']}", **details)
    return {"results": results}


def enrolment_plan(directory: Path) -> tuple[list[tuple[str, Path]], list[dict[str, str]]]:
    """(name, photo) pairs to enrol and what was skipped with why."""
    if not directory.is_dir():
        raise FRSError("bad_request", f"{directory} is not a directory")
    plan: list[tuple[str, Path]] = []
    skipped: list[dict[str, str]] = []
    for entry in sorted(directory.iterdir()):
        if not entry.is_dir():
            if entry.name != "README.md":
                skipped.append({"path": str(entry), "reason": "not inside a <name>/ folder"})
            continue
        for photo in sorted(entry.iterdir()):
            if photo.suffix.lower() in IMAGE_SUFFIXES and photo.is_file():
                plan.append((entry.name, photo))
            else:
                skipped.append({"path": str(photo), "reason": "not a .jpg/.jpeg/.png/.webp file"})
    return plan, skipped


def _enroll(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from tqdm import tqdm

    plan, skipped = enrolment_plan(Path(args.directory))
    enrolled = 0
    identities: set[str] = set()
    with tqdm(total=len(plan), unit="photo", file=sys.stderr, disable=not plan) as bar:
        for start in range(0, len(plan), ENROL_BATCH):
            batch = plan[start : start + ENROL_BATCH]
            results = service.add_many(
                args.gallery,
                [(n, p.read_bytes(), None) for n, p in batch],
                largest=args.largest,
                quality_filter=args.quality_filter,
            )
            for (name, photo), result in zip(batch, results, strict=True):
                if "error" in result:
                    skipped.append(
                        {
                            "path": str(photo),
                            "reason": f"{result['error']['code']}: {result['error']['message']}",
                        }
                    )
                else:
                    enrolled += 1
                    identities.add(name)
            bar.update(len(batch))
    for item in skipped:
        print(f"skipped {item['path']}: {item['reason']}", file=sys.stderr)
    return {"enrolled": enrolled, "identities": len(identities), "skipped": skipped}
