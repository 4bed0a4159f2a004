"""torch stays out of everything but an actual export: `import frs`, the CLI and the Lambda never need it."""

from __future__ import annotations

import subprocess
import sys

from frs.config import REPO_ROOT
from tests.export.conftest import HAVE_TORCH


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


def test_export_tooling_is_installed_so_the_export_tests_ran() -> None:
    """torch is a pinned dev requirement: without it tests/export/conftest.py leaves the export tests
    uncollected, which must show up as a failure, not as a quietly shorter suite."""
    pins = [
        line
        for line in (REPO_ROOT / "requirements-dev.txt").read_text().splitlines()
        if line.startswith("torch==")
    ]
    assert len(pins) == 1, "requirements-dev.txt must pin torch exactly once"
    assert HAVE_TORCH, (
        f"torch is not installed ({pins[0]} in requirements-dev.txt): the export tests did not run"
    )
    from importlib.metadata import version

    assert version("torch").split("+")[0] == pins[0].split("==")[1]
