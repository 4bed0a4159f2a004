"""The TFLite-to-ONNX conversion of MediaPipe's face mesh, checked against Google's own TFLite interpreter
(LiteRT) on a real face and on noise; models with operators the converter does not know are refused by
name."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from ai_edge_litert.interpreter import Interpreter

from frs.config import REPO_ROOT
from frs.errors import FRSError
from frs.packs.artifacts import read_member
from frs.packs.manifest import load_manifest
from frs.packs.onnx_repair import repair_model
from frs.packs.tflite_convert import convert_tflite


def _archive() -> Path:
    manifest = load_manifest("open", REPO_ROOT / "models")
    assert manifest.landmarker is not None
    return (
        REPO_ROOT
        / ".cache"
        / "artifacts"
        / str(manifest.artifacts[str(manifest.landmarker.artifact)].filename)
    )


@pytest.fixture(scope="module")
def mesh_tflite() -> bytes:
    manifest = load_manifest("open", REPO_ROOT / "models")
    assert manifest.landmarker is not None
    return read_member(_archive(), str(manifest.landmarker.member))


def _reference(model: bytes, batch: np.ndarray) -> list[np.ndarray]:
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    outputs = []
    for row in batch:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], row[None])
        interpreter.invoke()
        outputs.append(
            [interpreter.get_tensor(d["index"]).reshape(-1) for d in interpreter.get_output_details()]
        )
    return [np.stack(column) for column in zip(*outputs, strict=True)]


def test_converted_mesh_matches_the_tflite_interpreter(mesh_tflite: bytes, testdata: Path) -> None:
    photo = np.asarray(cv2.imread(str(testdata / "person_a_1.jpg")))[:, :, ::-1]
    face = cv2.resize(photo, (192, 192)).astype(np.float32) / 255.0
    noise = np.random.default_rng(0).random((192, 192, 3), dtype=np.float32)
    batch = np.stack([face, noise])
    session = ort.InferenceSession(convert_tflite(mesh_tflite))
    ours = session.run(None, {session.get_inputs()[0].name: batch})
    theirs = _reference(mesh_tflite, batch)
    assert [o.shape for o in ours] == [(2, 1404), (2, 1)]
    for mine, reference in zip(ours, theirs, strict=True):
        scale = float(np.abs(reference).max())
        assert np.abs(mine - reference).max() <= 1e-4 * max(scale, 1.0), "the converted graph drifts"
    points = ours[0][0].reshape(468, 3)
    assert points[:, :2].min() > -20 and points[:, :2].max() < 212  # a mesh over the face, not garbage


def test_first_output_only_keeps_the_landmarks_and_drops_the_rest(mesh_tflite: bytes) -> None:
    full = ort.InferenceSession(convert_tflite(mesh_tflite))
    repaired, stats = repair_model(mesh_tflite, ("from_tflite", "first_output_only"))
    assert stats["from_tflite"] == 1 and stats["first_output_only"] > 0
    model = onnx.load_from_string(repaired)
    assert [o.name for o in model.graph.output] == [full.get_outputs()[0].name]
    single = ort.InferenceSession(repaired)
    x = np.random.default_rng(1).random((1, 192, 192, 3), dtype=np.float32)
    (landmarks,) = single.run(None, {single.get_inputs()[0].name: x})
    np.testing.assert_allclose(landmarks, full.run(None, {full.get_inputs()[0].name: x})[0], atol=1e-6)


def test_the_opencv_engine_runs_the_converted_mesh_alike(mesh_tflite: bytes, tmp_path: Path) -> None:
    repaired, _ = repair_model(mesh_tflite, ("from_tflite", "first_output_only"))
    path = tmp_path / "mesh.onnx"
    path.write_bytes(repaired)
    net = cv2.dnn.readNet(str(path))
    x = np.random.default_rng(2).random((1, 192, 192, 3), dtype=np.float32)
    net.setInput(x)
    session = ort.InferenceSession(repaired)
    np.testing.assert_allclose(net.forward(), session.run(None, {"t0_nhwc": x})[0], atol=2e-3)


@pytest.mark.parametrize(
    ("member", "operator"),
    [
        ("mediapipe/modules/face_detection/face_detection_short_range.tflite", "RELU"),
        ("mediapipe/modules/iris_landmark/iris_landmark.tflite", "RESHAPE"),
    ],
)
def test_an_operator_the_converter_does_not_know_is_refused_by_name(member: str, operator: str) -> None:
    with pytest.raises(FRSError) as caught:
        convert_tflite(read_member(_archive(), member))
    assert caught.value.code == "model_unavailable"
    assert f"TFLite operator {operator} is not converted" in caught.value.message


def test_bytes_that_are_not_tflite_are_refused() -> None:
    with pytest.raises(FRSError) as caught:
        repair_model(b"not a flatbuffer at all", ("from_tflite",))
    assert caught.value.code == "model_unavailable"
