"""``python -m frs.export ARGS`` is ``frs models export ARGS`` (same options, output and exit codes)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from frs.cli.main import main as frs_main


def main(argv: Sequence[str] | None = None) -> int:
    return frs_main(["models", "export", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
