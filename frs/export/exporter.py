"""Checkpoint -> ONNX -> parity check -> model pack. Failures are ``FRSError``s; nothing half-written stays.

The ONNX graph is produced by torch's TorchScript-based exporter (``dynamo=False``): for a plain CNN it needs
nothing beyond torch itself (the dynamo exporter would also need onnxscript) and gives a dynamic batch axis
through ``dynamic_axes``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import onnx
import torch
from torch import nn

from frs.errors import FRSError
from frs.export.checkpoint import load_backbone
from frs.export.pack import (
    DEFAULT_LICENCE,
    DEFAULT_MATCH_THRESHOLD,
    RECOGNIZER_FILE,
    build_manifest,
    check_detector_pack,
    ensure_free,
    install_pack,
    validate_pack_name,
)
from frs.export.parity import ParityReport, check_parity
from frs.export.spec import ARCH_BLOCKS, FORMATS, INPUT_NAME, INPUT_SIZE, OPSET, OUTPUT_NAME
from frs.packs.artifacts import sha256_of
from frs.packs.manifest import load_manifest


@dataclass(frozen=True)
class ExportRequest:
    arch: str  # a key of ARCH_BLOCKS
    checkpoint: Path
    checkpoint_format: str  # a key of FORMATS
    name: str
    models_dir: Path
    detector: str = "open"
    licence: str = DEFAULT_LICENCE
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    description: str | None = None
    force: bool = False
    threads: int | None = None


@dataclass(frozen=True)
class ExportResult:
    name: str
    manifest_path: Path
    onnx_path: Path
    sha256: str
    dim: int
    parity: ParityReport
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "pack": self.name,
            "manifest": str(self.manifest_path),
            "recognizer": str(self.onnx_path),
            "sha256": self.sha256,
            "dim": self.dim,
            "parity": self.parity.to_dict(),
            "seconds": round(self.seconds, 2),
        }


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def export_onnx(model: nn.Module, path: Path) -> None:
    """Write ``model`` (112x112 NCHW float32 in, embedding out) as ONNX with a dynamic batch axis."""
    # Traced with a batch of 2 so nothing specialises to 1; parity then runs another batch size.
    example = torch.zeros(2, 3, INPUT_SIZE, INPUT_SIZE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # the TorchScript exporter's deprecation notices are not actionable
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
            )
        onnx.checker.check_model(str(path))
    except Exception as exc:  # the exporter raises many unrelated types; all mean the same to the user
        raise FRSError("internal_error", f"ONNX export failed: {exc}") from exc


def _validate(request: ExportRequest) -> None:
    if request.arch not in ARCH_BLOCKS:
        raise FRSError("bad_request", f"unknown arch {request.arch!r}; choose from {', '.join(ARCH_BLOCKS)}")
    if request.checkpoint_format not in FORMATS:
        raise FRSError(
            "bad_request", f"unknown format {request.checkpoint_format!r}; choose from {', '.join(FORMATS)}"
        )
    if not -1.0 <= request.match_threshold <= 1.0:
        raise FRSError("bad_request", "match threshold is a cosine similarity: between -1 and 1")
    validate_pack_name(request.name)
    if request.name == request.detector:
        raise FRSError("bad_request", f"pack {request.name!r} cannot borrow its detector from itself")
    ensure_free(request.name, request.models_dir, request.force)
    check_detector_pack(request.detector, request.models_dir)


def export_pack(request: ExportRequest, log: Callable[[str], None] = _stderr) -> ExportResult:
    """Export ``request.checkpoint`` to a pack named ``request.name``; fails loudly if parity is not met."""
    started = time.perf_counter()
    _validate(request)
    if request.threads:
        torch.set_num_threads(request.threads)
    checkpoint_format = FORMATS[request.checkpoint_format]
    log(f"loading {request.checkpoint.name} as {checkpoint_format.title} {request.arch}")
    loaded = load_backbone(request.checkpoint, request.checkpoint_format, request.arch)

    request.models_dir.mkdir(parents=True, exist_ok=True)
    # Staged next to the pack so the final move is an atomic rename on the same filesystem.
    staging = Path(tempfile.mkdtemp(prefix=f".{request.name}.export-", dir=request.models_dir))
    try:
        staged_onnx = staging / RECOGNIZER_FILE
        log(f"exporting ONNX (opset {OPSET}, dynamic batch)")
        export_onnx(loaded.model, staged_onnx)
        report = check_parity(
            loaded.model, staged_onnx, checkpoint_format.preprocessing, threads=torch.get_num_threads()
        )
        log(report.summary())
        if not report.passed:
            raise FRSError(
                "internal_error",
                f"ONNX export is not faithful to the PyTorch model, nothing written: {report.summary()}",
            )
        digest = sha256_of(staged_onnx)
        manifest = build_manifest(
            name=request.name,
            checkpoint_format=checkpoint_format,
            arch=request.arch,
            dim=loaded.dim,
            sha256=digest,
            detector=request.detector,
            licence=request.licence,
            match_threshold=request.match_threshold,
            description=request.description,
        )
        manifest_path = install_pack(request.models_dir, request.name, staged_onnx, manifest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    load_manifest(request.name, request.models_dir)  # the pipeline must be able to read what was written
    seconds = time.perf_counter() - started
    log(f"pack {request.name!r} written to {manifest_path} in {seconds:.1f}s")
    return ExportResult(
        name=request.name,
        manifest_path=manifest_path,
        onnx_path=request.models_dir / request.name / RECOGNIZER_FILE,
        sha256=digest,
        dim=loaded.dim,
        parity=report,
        seconds=seconds,
    )
