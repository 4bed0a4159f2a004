"""The ``frs`` parser: global options anywhere, help on every argument, one place for them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from frs.cli.main import build_parser, settings_from_args


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found.extend(_every_parser(child))
    return found


def test_every_argument_has_help() -> None:
    for parser in _every_parser(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{parser.prog}: {action.dest} has no help text"


@pytest.mark.parametrize(
    "argv",
    [
        ["--gallery", "site1", "--threshold", "0.4", "identify", "x.jpg"],
        ["identify", "x.jpg", "--gallery", "site1", "--threshold", "0.4"],
        ["--threshold", "0.4", "identify", "--gallery", "site1", "x.jpg"],
    ],
)
def test_global_options_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.gallery, args.threshold, args.image) == ("site1", 0.4, "x.jpg")
    assert settings_from_args(args).match_threshold == 0.4


def test_an_option_before_the_command_survives_the_command_parser() -> None:
    args = build_parser().parse_args(["--gallery", "site1", "--det-threshold", "0.7", "list"])
    assert (args.gallery, args.det_threshold) == ("site1", 0.7)
    defaults = build_parser().parse_args(["list"])
    assert (defaults.gallery, defaults.det_threshold, defaults.threshold) == ("default", None, None)


def test_nested_commands_take_global_options_too(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["models", "fetch", "--pack", "buffalo_s", "--models-dir", str(tmp_path)]
    )
    settings = settings_from_args(args)
    assert (settings.pack, settings.models_dir) == ("buffalo_s", tmp_path)
