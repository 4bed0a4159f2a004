"""The SFace repair: same embeddings as the published file, dynamic batch, no dead inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from frs.config import REPO_ROOT
from frs.packs.artifacts import read_member
from frs.packs.manifest import load_manifest
from frs.packs.onnx_repair import repair_model


def _published_sface() -> bytes:
    manifest = load_manifest("embedded", REPO_ROOT / "models")
    spec = manifest.recognizer
    archive = REPO_ROOT / ".cache" / "artifacts" / str(manifest.artifacts[str(spec.artifact)].filename)
    return read_member(archive, str(spec.member))


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
    repaired, stats = repair_model(published)
    assert stats["dropped_inputs"] > 100 and stats["folded_nodes"] > 0
    model = onnx.load_from_string(repaired)
    assert [i.name for i in model.graph.input] == ["data"]
    assert not any(n.op_type == "DequantizeLinear" for n in model.graph.node)
    crops = np.random.default_rng(0).uniform(0, 255, (3, 3, 112, 112)).astype(np.float32)
    batch = ort.InferenceSession(repaired, providers=["CPUExecutionProvider"]).run(None, {"data": crops})[0]
    baseline = ort.InferenceSession(_only_live_inputs(published), providers=["CPUExecutionProvider"])
    one_by_one = np.concatenate([baseline.run(None, {"data": crops[i : i + 1]})[0] for i in range(3)])
    assert batch.shape == (3, 128)
    assert np.abs(batch - one_by_one).max() < 1e-4
