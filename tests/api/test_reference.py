"""The README's API reference is the generated one, and what it names exists."""

from __future__ import annotations

import argparse

from frs.api.operations import CLI_ONLY, OPERATIONS
from frs.api.reference import README, readme_section, render
from frs.cli.main import build_parser


def test_the_readme_holds_exactly_the_generated_reference() -> None:
    # After changing a declaration: python -m frs.api.reference
    assert readme_section(README.read_text(encoding="utf-8")) == render()


def test_every_cli_command_the_reference_names_exists() -> None:
    commands = {
        name
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }
    named = [command for op in OPERATIONS for command in op.cli] + [command for command, _ in CLI_ONLY]
    assert named and {command.split()[1] for command in named} <= commands


def test_the_reference_names_every_parameter_and_answer_field_once() -> None:
    text = render()
    for operation in OPERATIONS:
        assert f"`{operation.name}`" in text
        for param in operation.params:
            assert text.count(f"| `{param.name}` |") >= 1
    assert text.count("| `det_score` |") == 2  # an answer field, and a member of the quality object
