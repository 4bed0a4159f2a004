"""Entry point of the ``frs`` command.

Global options (``--pack``, ``--models-dir``, ``--threshold``, ``--det-threshold``, ``--gallery``,
``--gallery-uri``) are accepted before or after the command (``frs identify x.jpg --gallery site1``). They
override the environment's settings for this run; a value out of range is the user's bad input (exit 2),
while a bad environment variable is ``misconfigured`` (exit 1).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from frs.cli import (
    audit_commands,
    calibrate_commands,
    gallery_commands,
    index_commands,
    measure_commands,
    model_commands,
    pipeline_commands,
    service_commands,
    transfer_commands,
    watch_commands,
)
from frs.cli.audited import run_command
from frs.cli.output import emit, emit_error
from frs.config import RULES, Settings, parse_number
from frs.errors import FRSError
from frs.service import FaceService


def _checked(setting: str, parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type that parses a value and applies the same rule as the setting's variable."""

    def convert(raw: str) -> Any:
        try:
            value = parse(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value {raw!r}") from None
        problem = RULES[setting][1].problem(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{problem}, got {raw!r}")
        return value

    return convert


def add_global_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """The global options. After a command their defaults are SUPPRESS, so an option given before the
    command is not reset by the command's parser when it is absent after it."""
    unset: Any = argparse.SUPPRESS if after_command else None
    group = parser.add_argument_group("global options (before or after the command)")
    group.add_argument(
        "--pack",
        default=unset,
        type=_checked("pack", str),
        help="model pack (default: FRS_PACK or 'open')",
    )
    group.add_argument(
        "--models-dir", default=unset, help="where pack weights live (default: FRS_MODELS_DIR or ./models)"
    )
    group.add_argument(
        "--det-threshold",
        default=unset,
        type=_checked("det_threshold", parse_number),
        help="detection score threshold, > 0 and <= 1 (default: FRS_DET_THRESHOLD or the pack's)",
    )
    group.add_argument(
        "--threshold",
        default=unset,
        type=_checked("match_threshold", parse_number),
        help="match threshold, -1 to 1 (default: FRS_MATCH_THRESHOLD or the pack's)",
    )
    group.add_argument(
        "--gallery",
        default=argparse.SUPPRESS if after_command else "default",
        help="gallery name (default: 'default')",
    )
    group.add_argument(
        "--gallery-uri",
        default=unset,
        help="local directory, s3://bucket/prefix or postgresql://... (default: FRS_GALLERY_URI)",
    )


def _commands_of(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below ``parser`` (commands and their sub-commands)."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found.extend([child, *_commands_of(child)])
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frs", description="Face recognition: detect, enrol, identify, verify."
    )
    add_global_options(parser, after_command=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for commands in (
        pipeline_commands,
        gallery_commands,
        index_commands,
        model_commands,
        service_commands,
        measure_commands,
        watch_commands,
        calibrate_commands,
        audit_commands,
        transfer_commands,
    ):
        commands.register(sub)
    for command in _commands_of(parser):
        add_global_options(command, after_command=True)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The environment's settings with this run's global options on top."""
    settings = Settings.from_env()
    overrides: dict[str, Any] = {}
    if args.pack:
        overrides["pack"] = args.pack
    if args.models_dir:
        overrides["models_dir"] = Path(args.models_dir)
    if args.det_threshold is not None:
        overrides["det_threshold"] = args.det_threshold
    if args.threshold is not None:
        overrides["match_threshold"] = args.threshold
    if args.gallery_uri:
        overrides["gallery_uri"] = args.gallery_uri
    return dataclasses.replace(settings, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage to stderr
        return 0 if exc.code == 0 else 2
    try:
        service = FaceService(settings_from_args(args))
        result = run_command(service, args)
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
