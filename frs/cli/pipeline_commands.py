"""``frs health``, ``frs detect``, ``frs verify``, ``frs embed``: commands without a gallery."""

from __future__ import annotations

import argparse
from typing import Any

from frs.cli.output import add_option, read_image
from frs.service import FaceService


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    health = sub.add_parser("health", help="load the --pack and say which one serves (as GET /health)")
    health.set_defaults(run=lambda s, a: s.health())

    detect = sub.add_parser("detect", help="detect faces: boxes, scores, 5 landmarks")
    detect.add_argument("image", help="photo file (JPEG, PNG, WebP, BMP or PGM/PPM)")
    detect.set_defaults(run=lambda s, a: s.detect(read_image(a.image)))

    verify = sub.add_parser("verify", help="compare the largest face of two images")
    verify.add_argument("image_a", help="first photo (its largest face)")
    verify.add_argument("image_b", help="second photo (its largest face)")
    add_option(verify, "verify", "target_far")
    verify.set_defaults(run=_verify)

    embed = sub.add_parser("embed", help="every face with its box and embedding")
    embed.add_argument("image", help="photo file")
    embed.set_defaults(run=lambda s, a: s.embed(read_image(a.image)))


def _verify(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    return service.verify_images(
        read_image(args.image_a), read_image(args.image_b), target_far=args.target_far
    )
