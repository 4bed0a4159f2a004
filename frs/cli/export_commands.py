"""``frs models export``: mounts the export tooling (:mod:`frs.export.cli`) under ``frs models``."""

from __future__ import annotations

import argparse

from frs.export.cli import add_export_arguments, export_from_args


def register(models_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = models_sub.add_parser(
        "export",
        help="export an ArcFace / AdaFace IResNet PyTorch checkpoint to a model pack",
        description="Convert an IResNet checkpoint to ONNX, check it against PyTorch, write a model pack "
        "into --models-dir.",
    )
    add_export_arguments(parser)
    parser.set_defaults(run=lambda service, args: export_from_args(args, service.settings.models_dir))
