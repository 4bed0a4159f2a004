"""``frs models export``: a PyTorch IResNet checkpoint in, an FRS model pack out.

Torch-free at import time: torch (a build-time tool, never in the Lambda image) is imported only when an
export actually runs. Mounted by the ``frs`` CLI through ``add_export_parser``; also runnable as
``python -m frs.export``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from frs.cli.output import emit_error
from frs.config import Settings
from frs.errors import FRSError
from frs.export.spec import ARCH_BLOCKS, FORMATS

_TORCH_HINT = "model export needs PyTorch (build-time only): .venv/bin/pip install torch==2.13.0"


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """The export options, shared by ``frs models export`` and ``python -m frs.export``."""
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
        "--detector", default="embedded", help="pack whose face detector to reuse (default: embedded)"
    )
    # SUPPRESS: when mounted under `frs`, an absent option must not clobber the global --models-dir.
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="where to write the pack (default: FRS_MODELS_DIR or ./models)",
    )
    parser.add_argument(
        "--match-threshold", type=float, default=None, help="recommended cosine threshold (0.3)"
    )
    parser.add_argument("--licence", default=None, help="who may use the weights (recorded in the manifest)")
    parser.add_argument("--description", default=None, help="one-line description for the manifest")
    parser.add_argument("--force", action="store_true", help="replace an existing pack of the same name")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for export and parity check")


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Mount ``export`` on an argparse sub-parser group (``frs models``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="export an ArcFace / AdaFace IResNet PyTorch checkpoint to a model pack",
        description="Convert an IResNet checkpoint to ONNX, check it against PyTorch, write a model pack.",
    )
    add_export_arguments(parser)
    # `frs` calls args.run(service, args) and prints the returned dict; run_export serves standalone use.
    parser.set_defaults(run=lambda service, args: export_from_args(args, service.settings.models_dir))
    return parser


def export_from_args(args: argparse.Namespace, default_models_dir: Path) -> dict[str, Any]:
    """Run the export the parsed ``args`` describe; returns the JSON-able result, raises ``FRSError``."""
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
        models_dir=Path(getattr(args, "models_dir", None) or default_models_dir),
        detector=args.detector,
        licence=args.licence or DEFAULT_LICENCE,
        match_threshold=DEFAULT_MATCH_THRESHOLD if args.match_threshold is None else args.match_threshold,
        description=args.description,
        force=args.force,
        threads=args.threads,
    )
    return export_pack(request).to_dict()


def run_export(args: argparse.Namespace) -> int:
    """Standalone entry: export, print the result as JSON on stdout; exit code 0, or 2 / 1 on error."""
    try:
        result = export_from_args(args, Settings.from_env().models_dir)
    except FRSError as exc:
        return emit_error(exc)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
