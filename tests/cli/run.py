"""Running ``frs`` in-process the way a shell would, and reading back what it printed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from frs.cli.main import main


class Cli:
    """``frs BASE... ARGV...`` in this process: (exit code, stdout parsed as JSON)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], base: Sequence[str] = ()) -> None:
        self._capsys = capsys
        self._base = list(base)

    def __call__(self, *argv: str) -> tuple[int, Any]:
        code = main([*self._base, *argv])
        out = self._capsys.readouterr().out
        return code, json.loads(out)
