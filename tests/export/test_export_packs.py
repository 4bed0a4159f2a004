"""Exported packs: valid manifests, faithful ONNX files, the preprocessing each source project uses."""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from frs.export.parity import MAX_ABS_DIFF, MIN_COSINE, check_parity, crop_like_images
from frs.export.spec import FORMATS
from frs.packs.manifest import load_manifest
from tests.export.support import (
    ExportedPack,
    ExportSession,
    manifest_input,
    native_input,
    randomised_backbone,
    torch_embeddings,
    unit,
)


@functools.cache
def _session(path: str) -> ort.InferenceSession:
    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def _onnx_embeddings(pack: ExportedPack, blob: np.ndarray) -> np.ndarray:
    return np.asarray(_session(str(pack.onnx_path)).run(["embedding"], {"input": blob})[0], dtype=np.float64)


@pytest.mark.parametrize("fmt", ["arcface", "adaface"])
def test_manifest_is_complete_and_loads(export_session: ExportSession, fmt: str) -> None:
    pack: ExportedPack = getattr(export_session, fmt)
    manifest = pack.manifest
    recognizer = manifest["recognizer"]
    assert manifest["name"] == pack.name
    assert manifest["detector"] == {"from_pack": "open"}
    assert manifest["artifacts"] == {}
    assert manifest["licence"] and recognizer["licence"]
    assert recognizer["file"] == "recognizer.onnx"
    assert pack.onnx_path == export_session.models_dir / pack.name / "recognizer.onnx"
    assert recognizer["sha256"] == hashlib.sha256(pack.onnx_path.read_bytes()).hexdigest()
    assert recognizer["input_size"] == [112, 112]
    assert recognizer["mean"] == [127.5, 127.5, 127.5]
    assert recognizer["std"] == [127.5, 127.5, 127.5]
    assert recognizer["color"] == {"arcface": "RGB", "adaface": "BGR"}[fmt]
    assert recognizer["dim"] == 512
    assert recognizer["match_threshold"] == 0.3

    parsed = load_manifest(pack.name, export_session.models_dir)  # the pipeline's own reader accepts it
    assert parsed.recognizer.color == recognizer["color"]
    assert parsed.detector.from_pack == "open"
    assert parsed.detector.file == load_manifest("open", export_session.models_dir).detector.file


@pytest.mark.parametrize("fmt", ["arcface", "adaface"])
def test_onnx_graph_has_the_promised_interface(export_session: ExportSession, fmt: str) -> None:
    model = onnx.load(str(getattr(export_session, fmt).onnx_path), load_external_data=False)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    (graph_input,) = model.graph.input
    (graph_output,) = model.graph.output
    assert graph_input.name == "input" and graph_output.name == "embedding"
    in_dims = graph_input.type.tensor_type.shape.dim
    assert in_dims[0].dim_param and not in_dims[0].dim_value  # dynamic batch
    assert [d.dim_value for d in in_dims[1:]] == [3, 112, 112]
    assert graph_output.type.tensor_type.shape.dim[0].dim_param


@pytest.mark.parametrize("fmt", ["arcface", "adaface"])
def test_pack_reproduces_the_checkpoint_model_with_its_native_preprocessing(
    export_session: ExportSession, fmt: str
) -> None:
    """The pack, fed as its manifest says, computes what the saved model computes on its project's input."""
    pack: ExportedPack = getattr(export_session, fmt)
    images = crop_like_images(3, seed=7)  # batch 3: neither the export's 2 nor the parity check's 4
    expected = unit(torch_embeddings(pack.model, native_input(images, fmt)))
    actual = unit(_onnx_embeddings(pack, manifest_input(images, pack.manifest["recognizer"])))
    assert np.abs(actual - expected).max() <= MAX_ABS_DIFF
    assert np.sum(actual * expected, axis=1).min() >= MIN_COSINE
    # The check is sharp enough to catch a wrong colour order.
    swapped = dict(pack.manifest["recognizer"], color="BGR" if fmt == "arcface" else "RGB")
    wrong = unit(_onnx_embeddings(pack, manifest_input(images, swapped)))
    assert np.sum(wrong * expected, axis=1).min() < MIN_COSINE


@pytest.mark.parametrize("fmt", ["arcface", "adaface"])
def test_cli_reports_parity_figures(export_session: ExportSession, fmt: str) -> None:
    run = getattr(export_session, fmt).run
    parity = run.json["parity"]
    assert parity["passed"] is True and parity["batch"] == 4
    assert 0.0 <= parity["max_abs_diff"] <= MAX_ABS_DIFF
    assert MIN_COSINE <= parity["min_cosine"] <= 1.0 + 1e-9
    assert "parity (batch 4): max |diff|" in run.stderr and "min cosine" in run.stderr
    assert run.json["dim"] == 512


def test_parity_check_fails_for_an_onnx_file_of_another_model(export_session: ExportSession) -> None:
    stranger = randomised_backbone("arcface", seed=99)
    report = check_parity(stranger, export_session.arcface.onnx_path, FORMATS["arcface"].preprocessing)
    assert not report.passed
    assert report.min_cosine < MIN_COSINE and report.max_abs_diff > MAX_ABS_DIFF


def test_no_staging_files_are_left(export_session: ExportSession) -> None:
    names = {p.name for p in export_session.models_dir.iterdir()}
    assert not [n for n in names if n.startswith(".")], names
    assert {"myarc.json", "myarc", "myada.json", "myada"} <= names
