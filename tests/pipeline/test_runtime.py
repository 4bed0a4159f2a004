"""Inference engines: OpenCV's DNN engine gives the recognizer the same embeddings as onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.packs.manifest import load_manifest, weight_path
from frs.pipeline.align import align_face
from frs.pipeline.analyzer import load_analyzer
from frs.pipeline.embedder import Embedder
from frs.pipeline.runtime import OpenCvSession, create_session, load_session


def test_opencv_and_onnxruntime_embed_alike(open_settings: Settings, testdata: Path) -> None:
    analyzer = load_analyzer(open_settings)
    assert isinstance(analyzer.embedder.session, OpenCvSession)  # the open pack's manifest asks for it
    image = analyzer.decode((testdata / "solvay_conference_1927.jpg").read_bytes())
    faces = analyzer.detector.detect(image.rgb, analyzer.det_threshold)[:8]
    crops = np.stack([align_face(image.rgb, f.landmarks, (112, 112)) for f in faces])
    path = weight_path(analyzer.manifest, analyzer.manifest.recognizer, open_settings.models_dir)
    reference = Embedder(create_session(path, 2), analyzer.manifest.recognizer).embed(crops)
    ours = analyzer.embedder.embed(crops)
    assert ours.shape == reference.shape == (8, 128)
    assert np.abs(ours - reference).max() < 1e-4


def test_unknown_engine_and_missing_files_are_model_unavailable(tmp_path: Path, settings: Settings) -> None:
    manifest = load_manifest("embedded", settings.models_dir)
    path = weight_path(manifest, manifest.recognizer, settings.models_dir)
    with pytest.raises(FRSError, match="unknown inference engine 'tensorrt'") as caught:
        load_session(path, 1, "tensorrt")
    assert caught.value.code == "model_unavailable"
    for engine in ("onnxruntime", "opencv"):
        with pytest.raises(FRSError, match="frs models fetch") as missing:
            load_session(tmp_path / "gone" / "model.onnx", 1, engine)
        assert missing.value.code == "model_unavailable"
