"""The detector router: the manifest's ``kind`` picks the class; a wrong kind or model is a clear error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import onnxruntime as ort
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.packs.manifest import PackManifest, load_manifest, weight_path
from frs.pipeline.detectors import DETECTOR_KINDS, ScrfdDetector, YunetDetector, load_detector
from frs.pipeline.runtime import create_session


def _session(settings: Settings, pack: str) -> tuple[PackManifest, ort.InferenceSession]:
    manifest = load_manifest(pack, settings.models_dir)
    return manifest, create_session(weight_path(manifest, manifest.detector, settings.models_dir), 1)


@pytest.mark.parametrize(("pack", "cls"), [("embedded", ScrfdDetector), ("open", YunetDetector)])
def test_kind_picks_the_detector_class(
    settings: Settings, open_settings: Settings, pack: str, cls: type[object]
) -> None:
    manifest, session = _session(settings, pack)
    detector = load_detector(manifest.detector, session, manifest.detector.input_size, manifest=manifest.path)
    assert type(detector) is cls
    assert DETECTOR_KINDS[manifest.detector.kind] is cls


def test_unknown_kind_names_the_manifest(settings: Settings) -> None:
    manifest, session = _session(settings, "embedded")
    spec = dataclasses.replace(manifest.detector, kind="retinaface")
    with pytest.raises(FRSError) as caught:
        load_detector(spec, session, spec.input_size, manifest=manifest.path)
    assert caught.value.code == "model_unavailable"
    assert str(manifest.path) in caught.value.message and "'retinaface'" in caught.value.message
    assert "scrfd, yunet" in caught.value.message


@pytest.mark.parametrize(("pack", "wrong_kind"), [("embedded", "yunet"), ("open", "scrfd")])
def test_model_of_another_kind_is_refused(
    settings: Settings, open_settings: Settings, pack: str, wrong_kind: str
) -> None:
    """A manifest naming the wrong kind for its file fails at load time, not with garbage boxes."""
    manifest, session = _session(settings, pack)
    spec = dataclasses.replace(manifest.detector, kind=wrong_kind)
    with pytest.raises(FRSError) as caught:
        load_detector(spec, session, spec.input_size, manifest=manifest.path)
    assert caught.value.code == "model_unavailable"
    assert str(manifest.path) in caught.value.message and wrong_kind in caught.value.message


def test_analyzer_refuses_a_manifest_with_an_unknown_kind(settings: Settings, tmp_path: Path) -> None:
    import json

    from frs.pipeline.analyzer import FaceAnalyzer

    raw = json.loads((settings.models_dir.parent / "models" / "embedded.json").read_text())
    raw["name"] = "oddkind"
    raw["detector"]["kind"] = "mtcnn"
    (tmp_path / "oddkind.json").write_text(json.dumps(raw))
    (tmp_path / "oddkind").mkdir()
    for spec in ("detector", "recognizer"):
        (tmp_path / "oddkind" / raw[spec]["file"]).symlink_to(
            settings.models_dir / "embedded" / raw[spec]["file"]
        )
    manifest = load_manifest("oddkind", tmp_path)
    with pytest.raises(FRSError, match="unknown detector kind 'mtcnn'") as caught:
        FaceAnalyzer(manifest, dataclasses.replace(settings, models_dir=tmp_path))
    assert str(tmp_path / "oddkind.json") in caught.value.message
