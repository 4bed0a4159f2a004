"""Test support for model export: random IR-18 checkpoints in both published formats, exported by the CLI.

Needs torch (build-time tooling; conftest.py leaves the export tests uncollected without it). Each
checkpoint's "native" preprocessing is written here exactly as its own project writes it (arcface_torch: RGB,
x/255 - 0.5, / 0.5; AdaFace inference.py: BGR, same arithmetic), independently of the exporter's tables, so
the tests check the manifest against the source projects, not against itself.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from frs.config import REPO_ROOT
from frs.export.__main__ import main as export_main
from frs.export.iresnet import build_backbone

torch.set_num_threads(2)


def randomised_backbone(checkpoint_format: str, arch: str = "ir18", seed: int = 0) -> nn.Module:
    """A backbone whose every tensor is random, batch-norm statistics and PReLU slopes included.

    Default initialisation leaves BN at identity and every PReLU equal, which would let a loader that
    mixes up those tensors go unnoticed.
    """
    torch.manual_seed(seed)
    model = build_backbone(checkpoint_format, arch)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
                assert module.running_mean is not None and module.running_var is not None
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                if module.affine:
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.normal_(0.0, 0.1)
            elif isinstance(module, nn.PReLU):
                module.weight.uniform_(0.0, 0.3)
    return model.eval()


def lightning_checkpoint(model: nn.Module) -> dict[str, Any]:
    """What AdaFace's Lightning training saves: backbone under ``model.``, margin head under ``head.``."""
    state = {f"model.{key}": value for key, value in model.state_dict().items()}
    state |= {
        "head.kernel": torch.randn(512, 10),
        "head.t": torch.zeros(1),
        "head.batch_mean": torch.ones(1) * 20,
        "head.batch_std": torch.ones(1) * 100,
    }
    return {
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "1.8.6",
        "state_dict": state,
        "lr_schedulers": [{"milestones": collections.Counter([12, 20]), "gamma": 0.1}],  # as MultiStepLR
        # Training scripts pickle their arguments; the exporter must read them without running code.
        "hyper_parameters": argparse.Namespace(arch="ir_18", head="adaface", m=0.4),
    }


def native_input(images: npt.NDArray[np.uint8], checkpoint_format: str) -> npt.NDArray[np.float32]:
    """RGB uint8 (N, 112, 112, 3) preprocessed as the checkpoint's own project does, NCHW float32."""
    pixels = images[..., ::-1] if checkpoint_format == "adaface" else images
    scaled = (pixels.astype(np.float32) / 255.0 - 0.5) / 0.5
    return np.ascontiguousarray(scaled.transpose(0, 3, 1, 2))


def manifest_input(images: npt.NDArray[np.uint8], recognizer: dict[str, Any]) -> npt.NDArray[np.float32]:
    """RGB uint8 (N, H, W, 3) preprocessed as a pack manifest prescribes, NCHW float32."""
    pixels = images[..., ::-1] if recognizer["color"] == "BGR" else images
    mean = np.asarray(recognizer["mean"], dtype=np.float32)
    std = np.asarray(recognizer["std"], dtype=np.float32)
    blob = (pixels.astype(np.float32) - mean) / std
    return np.ascontiguousarray(blob.transpose(0, 3, 1, 2))


def torch_embeddings(model: nn.Module, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    with torch.inference_mode():
        out: npt.NDArray[np.float64] = model(torch.from_numpy(blob)).numpy().astype(np.float64)
    return out


def unit(vectors: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    array = np.asarray(vectors, dtype=np.float64)
    normalised: npt.NDArray[np.float64] = array / np.linalg.norm(array, axis=1, keepdims=True)
    return normalised


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_export_cli(argv: Sequence[str]) -> CliRun:
    """``python -m frs.export ARGV`` in-process (the interpreter already has torch loaded)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = export_main(list(argv))
    return CliRun(code, out.getvalue(), err.getvalue())


@dataclass
class ExportedPack:
    name: str
    checkpoint_format: str
    model: nn.Module  # the model that was saved: the reference the pack must reproduce
    checkpoint: Path
    run: CliRun

    @property
    def manifest(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(Path(self.run.json["manifest"]).read_text())
        return result

    @property
    def onnx_path(self) -> Path:
        return Path(self.run.json["recognizer"])


@dataclass
class ExportSession:
    models_dir: Path
    arcface: ExportedPack
    adaface: ExportedPack


def make_export_session(root: Path) -> ExportSession:
    """One arcface and one AdaFace IR-18 pack, exported through the CLI into a models dir under ``root``.

    The scratch dir links the repository's fetched weights so the packs' borrowed detector (the default
    pack's, `open`) can run in the pipeline test.
    """
    models_dir = root / "models"
    models_dir.mkdir()
    for pack in ("embedded", "open"):
        fetched = REPO_ROOT / "models" / pack
        if fetched.is_dir():
            (models_dir / pack).symlink_to(fetched, target_is_directory=True)

    arcface_model = randomised_backbone("arcface", seed=1)
    arcface_ckpt = root / "arcface_ir18.pt"
    torch.save(arcface_model.state_dict(), arcface_ckpt)  # arcface_torch's model.pt: a bare state dict

    adaface_model = randomised_backbone("adaface", seed=2)
    adaface_ckpt = root / "adaface_ir18.ckpt"
    torch.save(lightning_checkpoint(adaface_model), adaface_ckpt)

    packs = {}
    for name, fmt, model, ckpt in (
        ("myarc", "arcface", arcface_model, arcface_ckpt),
        ("myada", "adaface", adaface_model, adaface_ckpt),
    ):
        run = run_export_cli(
            [
                *("--arch", "ir18", "--checkpoint", str(ckpt), "--format", fmt, "--name", name),
                *("--models-dir", str(models_dir), "--threads", "2"),
            ]
        )
        assert run.code == 0, run.stdout + run.stderr
        packs[fmt] = ExportedPack(name, fmt, model, ckpt, run)
    return ExportSession(models_dir, packs["arcface"], packs["adaface"])
