"""Read a PyTorch checkpoint without running its code, find the backbone's weights, load them into our model.

Only ``torch.load(weights_only=True)`` is used: a checkpoint is a pickle, and a full unpickle would run
whatever code the file names. Training checkpoints often carry harmless metadata objects (argparse
``Namespace``, Lightning ``AttributeDict``, numpy scalars); those few are read as inert stand-ins. Anything
else is refused with the names of the classes it needs and how to re-save just the weights.
"""

from __future__ import annotations

import argparse
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from frs.errors import FRSError
from frs.export.compat import check_arch, check_format, check_keys, listing
from frs.export.iresnet import build_backbone
from frs.export.spec import FORMATS

# Where training scripts keep the backbone's state dict inside a bigger checkpoint, most specific first.
_WRAPPER_KEYS = ("state_dict_backbone", "state_dict", "model_state_dict")
_ADAFACE_MODEL_PREFIX = "model."
_ADAFACE_HEAD_PREFIX = "head."  # the margin head's class centres: training-only, not part of the backbone
_DATA_PARALLEL_PREFIX = "module."


def _inert_globals() -> dict[str, Any]:
    """Pickle globals that only rebuild plain data, each mapped to a harmless type that can rebuild it."""
    inert: dict[str, Any] = {"argparse.Namespace": argparse.Namespace}
    # Lightning's AttributeDict is a dict subclass with attribute access; a plain dict holds the same data.
    for name in (
        "pytorch_lightning.utilities.parsing.AttributeDict",
        "lightning.fabric.utilities.data.AttributeDict",
        "lightning_fabric.utilities.data.AttributeDict",
    ):
        inert[name] = dict
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        inert[f"{module}.scalar"] = np._core.multiarray.scalar  # type: ignore[attr-defined]
        inert[f"{module}._reconstruct"] = np._core.multiarray._reconstruct  # type: ignore[attr-defined]
    inert["numpy.dtype"] = np.dtype
    inert["numpy.ndarray"] = np.ndarray
    for name in dir(np.dtypes):
        if name.endswith("DType"):
            inert[f"numpy.dtypes.{name}"] = getattr(np.dtypes, name)
    return inert


def _unsafe_globals(path: Path) -> list[str] | None:
    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # not a zip checkpoint, or unreadable: the caller reports the original error
        return None


def read_checkpoint(path: Path) -> Any:
    """The unpickled checkpoint at ``path`` (tensors on CPU), read with ``weights_only=True``."""
    if not path.is_file():
        raise FRSError("not_found", f"checkpoint {str(path)!r} not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first_error = exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FRSError("bad_request", f"cannot read checkpoint {path.name}: {exc}") from exc

    needed = _unsafe_globals(path)
    if not needed:
        reason = (str(first_error).splitlines() or ["unreadable pickle"])[-1]
        raise FRSError(
            "bad_request", f"{path.name} is not a readable PyTorch checkpoint: {reason}"
        ) from first_error
    inert = _inert_globals()
    refused = [name for name in needed if name not in inert]
    if refused:
        raise FRSError(
            "bad_request",
            f"{path.name} needs code to load (it pickles {listing(refused)}); only plain weights are read. "
            "Where you trust the file, re-save the weights alone: "
            "torch.save(torch.load(FILE, weights_only=False)['state_dict'], 'weights.pt')",
        ) from first_error
    try:
        with torch.serialization.safe_globals([(inert[name], name) for name in needed]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, TypeError, ValueError) as exc:
        raise FRSError("bad_request", f"cannot read checkpoint {path.name}: {exc}") from exc


def _strip_prefix(state: dict[str, Any], prefix: str) -> dict[str, Any]:
    if state and all(key.startswith(prefix) for key in state):
        return {key[len(prefix) :]: value for key, value in state.items()}
    return state


def extract_state_dict(checkpoint: Any, checkpoint_format: str) -> dict[str, torch.Tensor]:
    """The backbone's tensors from a checkpoint: a bare state dict or one wrapped by a training script.

    arcface_torch saves ``model.pt`` as a bare state dict, training checkpoints as ``state_dict_backbone``.
    AdaFace (PyTorch Lightning) saves ``{"state_dict": {"model.<key>": ..., "head.<key>": ...}}``.
    """
    if not isinstance(checkpoint, Mapping):
        raise FRSError(
            "bad_request", f"checkpoint holds a {type(checkpoint).__name__}, not a dict of weights"
        )
    state: Any = checkpoint
    if not all(isinstance(value, torch.Tensor) for value in checkpoint.values()):
        wrapper = next((key for key in _WRAPPER_KEYS if isinstance(checkpoint.get(key), Mapping)), None)
        if wrapper is None:
            raise FRSError(
                "bad_request",
                "checkpoint is neither a state dict nor a training checkpoint with one of "
                f"{', '.join(_WRAPPER_KEYS)}; its top-level keys: {listing(map(str, checkpoint))}",
            )
        state = checkpoint[wrapper]
    state = _strip_prefix({str(key): value for key, value in state.items()}, _DATA_PARALLEL_PREFIX)
    if checkpoint_format == "adaface" and any(key.startswith(_ADAFACE_MODEL_PREFIX) for key in state):
        # Lightning module: keep the backbone (model.*), drop the margin head; anything else gets reported.
        state = {
            (key[len(_ADAFACE_MODEL_PREFIX) :] if key.startswith(_ADAFACE_MODEL_PREFIX) else key): value
            for key, value in state.items()
            if not key.startswith(_ADAFACE_HEAD_PREFIX)
        }
        state = _strip_prefix(state, _DATA_PARALLEL_PREFIX)
    not_tensors = [key for key, value in state.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise FRSError("bad_request", f"checkpoint entries that are not tensors: {listing(not_tensors)}")
    tensors: dict[str, torch.Tensor] = state
    return tensors


def _embedding_dim(state: Mapping[str, torch.Tensor], checkpoint_format: str) -> int:
    # The final linear layer's output width; 512 for every published model, but arcface_torch lets it vary.
    key = "fc.weight" if checkpoint_format == "arcface" else "output_layer.3.weight"
    tensor = state.get(key)
    return int(tensor.shape[0]) if tensor is not None and tensor.dim() == 2 else 512


@dataclass
class LoadedBackbone:
    model: nn.Module  # eval mode, float32, CPU
    dim: int


def load_backbone(path: Path, checkpoint_format: str, arch: str) -> LoadedBackbone:
    """Build ``arch`` in ``checkpoint_format``'s layout and load the checkpoint into it, or say why not."""
    state = extract_state_dict(read_checkpoint(path), checkpoint_format)
    check_format(state, checkpoint_format)
    check_arch(state, checkpoint_format, arch)
    dim = _embedding_dim(state, checkpoint_format)
    model = build_backbone(checkpoint_format, arch, dim)
    check_keys(state, model.state_dict(), f"{FORMATS[checkpoint_format].title} {arch}")
    floats = {key: value.float() if value.is_floating_point() else value for key, value in state.items()}
    model.load_state_dict(floats, strict=False)  # strictness already checked, bar batch-norm step counters
    return LoadedBackbone(model.eval(), dim)
