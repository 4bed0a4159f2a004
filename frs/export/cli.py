"""``frs models export``: its options and what running it does (a PyTorch IResNet checkpoint in, a pack out).

Torch-free at import time: torch (a build-time tool, never in the Lambda image) is imported only when an
export actually runs. The ``frs`` CLI mounts it (:mod:`frs.cli.export_commands`); ``python -m frs.export`` is
the same command. This module knows nothing about the CLI around it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from frs.errors import FRSError
from frs.export.spec import ARCH_BLOCKS, FORMATS

_TORCH_HINT = "model export needs PyTorch (build-time only): .venv/bin/pip install torch==2.13.0"


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``frs models export``."""
    parser.add_argument("--arch", required=True, choices=sorted(ARCH_BLOCKS), help="backbone depth")
    parser.add_argument(
        "--checkpoint", required=True, type=Path, help="PyTorch checkpoint (.pt / .pth / .ckpt)"
    )
    parser.add_argument(
        "--format",
        dest="checkpoint_format",
        required=True,
        choices=sorted(FORMATS),
        help="arcface: InsightFace arcface_torch (RGB input); adaface: AdaFace (BGR input)",
    )
    parser.add_argument("--name", required=True, help="name of the new pack (a-z, 0-9, '-', '_')")
    parser.add_argument(
        "--detector", default="open", help="pack whose face detector to reuse (default: open, YuNet, MIT)"
    )
    parser.add_argument(
        "--match-threshold", type=float, default=None, help="recommended cosine threshold (0.3)"
    )
    parser.add_argument("--licence", default=None, help="who may use the weights (recorded in the manifest)")
    parser.add_argument("--description", default=None, help="one-line description for the manifest")
    parser.add_argument("--force", action="store_true", help="replace an existing pack of the same name")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for export and parity check")


def export_from_args(args: argparse.Namespace, models_dir: Path) -> dict[str, Any]:
    """Run the export ``args`` describe into ``models_dir`` (the global ``--models-dir``); returns the
    JSON-able result, raises ``FRSError``."""
    try:
        from frs.export.exporter import ExportRequest, export_pack
        from frs.export.pack import DEFAULT_LICENCE, DEFAULT_MATCH_THRESHOLD
    except ModuleNotFoundError as exc:
        if exc.name in ("torch", "onnx"):
            raise FRSError("internal_error", _TORCH_HINT) from exc
        raise
    request = ExportRequest(
        arch=args.arch,
        checkpoint=Path(args.checkpoint),
        checkpoint_format=args.checkpoint_format,
        name=args.name,
        models_dir=models_dir,
        detector=args.detector,
        licence=args.licence or DEFAULT_LICENCE,
        match_threshold=DEFAULT_MATCH_THRESHOLD if args.match_threshold is None else args.match_threshold,
        description=args.description,
        force=args.force,
        threads=args.threads,
    )
    return export_pack(request).to_dict()
