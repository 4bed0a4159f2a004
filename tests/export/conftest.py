"""Model export tests need torch, which is build-time tooling: without it they are left uncollected.

test_torch_optional.py still runs (and shows a skip saying why the rest did not).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

HAVE_TORCH = importlib.util.find_spec("torch") is not None

if not HAVE_TORCH:
    collect_ignore_glob = ["test_export_*.py"]


@pytest.fixture(scope="session")
def export_session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One arcface and one AdaFace IR-18 pack, exported through the CLI once per session (see support.py)."""
    from tests.export.support import make_export_session

    return make_export_session(tmp_path_factory.mktemp("export"))
