"""torch stays out of everything but an actual export: `import frs`, the CLI and the Lambda never need it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from frs.config import REPO_ROOT


def test_cli_and_export_package_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import frs, frs.export, frs.export.cli, frs.export.spec, frs.export.pack, frs.export.__main__\n"
        "import frs.cli.main\n"
        "frs.cli.main.build_parser()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_export_tooling_is_installed() -> None:
    pytest.importorskip(
        "torch", reason="torch (build-time tooling) is absent: export tests were not collected"
    )
