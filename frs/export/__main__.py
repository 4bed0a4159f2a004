"""``python -m frs.export --arch ir50 --checkpoint FILE --format arcface --name PACK``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from frs.export.cli import add_export_arguments, run_export


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m frs.export", description="Export an IResNet PyTorch checkpoint to an FRS model pack."
    )
    add_export_arguments(parser)
    return run_export(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
