"""A separate process that writes to a gallery, for the multi-process tests.

    python tests/gallery/file/gallery_worker.py URI CACHE_DIR GALLERY NAME... [--ready FILE --go FILE]
        [--pause-before-upload FILE]

Adds one synthetic face per NAME with one add_face call each. ``--ready`` creates FILE once imports are done;
``--go`` then waits until FILE exists, so that several workers start writing at the same moment.
``--pause-before-upload`` creates FILE once the new version is prepared and then blocks forever, so the test
can kill the process between preparing and uploading.
Prints one JSON line: {"added": [...], "error": null | {"code", "message"}}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import open_gallery
from frs.gallery.file import sync
from tests.gallery.synthetic import TEST_PACK, FaceMaker


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("uri")
    parser.add_argument("cache_dir", type=Path)
    parser.add_argument("gallery")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--ready", type=Path)
    parser.add_argument("--go", type=Path)
    parser.add_argument("--pause-before-upload", type=Path)
    args = parser.parse_args()

    if args.pause_before_upload is not None:
        marker: Path = args.pause_before_upload

        def pause(snapshot: Path) -> None:
            marker.write_text(str(snapshot))
            time.sleep(3600)

        sync.before_upload = pause

    # Like a Lambda instance: settings from the environment (S3 endpoint, retries), the gallery from the args.
    settings = dataclasses.replace(
        Settings.from_env(), gallery_uri=args.uri, cache_dir=args.cache_dir, sync_ttl=0.0
    )
    gallery = open_gallery(args.gallery, settings)
    maker = FaceMaker()
    added: list[str] = []
    if args.ready is not None:
        args.ready.write_text("ready")
    if args.go is not None:
        while not args.go.exists():
            time.sleep(0.01)
    try:
        for name in args.names:
            gallery.add_face(name, maker.face(name), pack=TEST_PACK)
            added.append(name)
    except FRSError as exc:
        print(json.dumps({"added": added, "error": {"code": exc.code, "message": exc.message}}))
        return 1
    print(json.dumps({"added": added, "error": None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
