"""Entry point of the ``frs`` command."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from frs.cli import (
    gallery_commands,
    measure_commands,
    model_commands,
    pipeline_commands,
    service_commands,
)
from frs.cli.output import emit, emit_error
from frs.config import Settings
from frs.errors import FRSError
from frs.service import FaceService


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frs", description="Face recognition: detect, enrol, identify, verify."
    )
    parser.add_argument("--pack", help="model pack (default: FRS_PACK or 'embedded')")
    parser.add_argument("--models-dir", help="where pack weights live (default: FRS_MODELS_DIR or ./models)")
    parser.add_argument("--det-threshold", type=float, help="detection score threshold (default: the pack's)")
    parser.add_argument("--threshold", type=float, help="match threshold (default: the pack's)")
    parser.add_argument("--gallery", default="default", help="gallery name (default: 'default')")
    parser.add_argument(
        "--gallery-uri", help="local directory or s3://bucket/prefix (default: FRS_GALLERY_URI)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for commands in (pipeline_commands, gallery_commands, model_commands, service_commands, measure_commands):
        commands.register(sub)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    overrides: dict[str, object] = {}
    if args.pack:
        overrides["pack"] = args.pack
    if args.models_dir:
        overrides["models_dir"] = Path(args.models_dir)
    if args.det_threshold is not None:
        overrides["det_threshold"] = args.det_threshold
    if args.gallery_uri:
        overrides["gallery_uri"] = args.gallery_uri
    return dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage to stderr
        return 0 if exc.code == 0 else 2
    try:
        service = FaceService(settings_from_args(args))
        result = args.run(service, args)
    except FRSError as exc:
        return emit_error(exc)
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    try:
        if result is not None:
            emit(result)
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
