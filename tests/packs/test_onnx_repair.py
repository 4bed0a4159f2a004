"""Fetch-time repairs: SFace (int8 and fp32) keeps its embeddings with a dynamic batch and no dead inputs;
YuNet with a dynamic input gives the published outputs at 640x640 and runs at other multiples of 32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from frs.config import REPO_ROOT
from frs.errors import FRSError
from frs.packs.artifacts import read_member
from frs.packs.manifest import LEGACY_REPAIR, load_manifest
from frs.packs.onnx_repair import repair_model


def _published(pack: str, role: str) -> bytes:
    """The file as published, read from the artifact `make models` cached."""
    manifest = load_manifest(pack, REPO_ROOT / "models")
    spec = manifest.detector if role == "detector" else manifest.recognizer
    archive = REPO_ROOT / ".cache" / "artifacts" / str(manifest.artifacts[str(spec.artifact)].filename)
    return read_member(archive, str(spec.member))


def _published_sface() -> bytes:
    return _published("embedded", "recognizer")


def _only_live_inputs(data: bytes) -> bytes:
    """The published model with just enough surgery for onnxruntime to accept it (the baseline)."""
    model = onnx.load_from_string(data)
    consumed = {name for node in model.graph.node for name in node.input}
    initializers = {i.name for i in model.graph.initializer}
    live = [i for i in model.graph.input if i.name in consumed and i.name not in initializers]
    del model.graph.input[:]
    model.graph.input.extend(live)
    repaired: bytes = model.SerializeToString()
    return repaired


def test_repair_keeps_embeddings_and_allows_batches(tmp_path: Path) -> None:
    published = _published_sface()
    repaired, stats = repair_model(published, LEGACY_REPAIR)
    assert stats["drop_dead_inputs"] > 100 and stats["fold_constants"] > 0
    model = onnx.load_from_string(repaired)
    assert [i.name for i in model.graph.input] == ["data"]
    assert not any(n.op_type == "DequantizeLinear" for n in model.graph.node)
    crops = np.random.default_rng(0).uniform(0, 255, (3, 3, 112, 112)).astype(np.float32)
    batch = ort.InferenceSession(repaired, providers=["CPUExecutionProvider"]).run(None, {"data": crops})[0]
    baseline = ort.InferenceSession(_only_live_inputs(published), providers=["CPUExecutionProvider"])
    one_by_one = np.concatenate([baseline.run(None, {"data": crops[i : i + 1]})[0] for i in range(3)])
    assert batch.shape == (3, 128)
    assert np.abs(batch - one_by_one).max() < 1e-4


def test_fp32_sface_needs_only_inputs_and_batch_repaired() -> None:
    """The fp32 file loads as published, but declares its weights as inputs (onnxruntime then cannot fold its
    batch norms into the convolutions) and takes one face per call."""
    published = _published("open", "recognizer")
    steps = load_manifest("open", REPO_ROOT / "models").recognizer.repair
    repaired, stats = repair_model(published, steps)
    assert stats["drop_dead_inputs"] > 100
    assert [i.name for i in onnx.load_from_string(repaired).graph.input] == ["data"]
    crops = np.random.default_rng(1).uniform(0, 255, (4, 3, 112, 112)).astype(np.float32)
    batch = ort.InferenceSession(repaired, providers=["CPUExecutionProvider"]).run(None, {"data": crops})[0]
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the published file warns about every weight declared as an input
    baseline = ort.InferenceSession(published, options, providers=["CPUExecutionProvider"])
    one_by_one = np.concatenate([baseline.run(None, {"data": crops[i : i + 1]})[0] for i in range(4)])
    assert np.abs(batch - one_by_one).max() < 1e-4


def test_yunet_dynamic_input_keeps_outputs_and_frees_the_size() -> None:
    published = _published("open", "detector")
    repaired, stats = repair_model(published, ("dynamic_input",))
    assert stats["dynamic_input"] == 2 + 12 * 2  # height, width; the two non-batch dims of 12 outputs
    rng = np.random.default_rng(2)
    square = rng.uniform(0, 255, (1, 3, 640, 640)).astype(np.float32)
    fixed = ort.InferenceSession(published, providers=["CPUExecutionProvider"])
    free = ort.InferenceSession(repaired, providers=["CPUExecutionProvider"])
    for a, b in zip(fixed.run(None, {"input": square}), free.run(None, {"input": square}), strict=True):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-4
    wide = rng.uniform(0, 255, (1, 3, 384, 640)).astype(np.float32)
    outputs = dict(zip([o.name for o in free.get_outputs()], free.run(None, {"input": wide}), strict=True))
    for stride in (8, 16, 32):
        cells = (384 // stride) * (640 // stride)
        assert outputs[f"cls_{stride}"].shape == (1, cells, 1)
        assert outputs[f"kps_{stride}"].shape == (1, cells, 10)


def test_unknown_repair_step_is_refused() -> None:
    with pytest.raises(FRSError, match="unknown repair step") as caught:
        repair_model(b"", ("make_it_faster",))
    assert caught.value.code == "model_unavailable"
