"""An exported pack in the real FRS pipeline: borrowed detector, the pack's embedder, a gallery, real photos.

The recognizer has random weights, so this proves plumbing and preprocessing, not recognition quality: the
pipeline's embeddings must equal the saved PyTorch model's on the same aligned crops (through AdaFace's own
BGR preprocessing), and a face enrolled from a photo must be identified in that same photo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frs.config import REPO_ROOT, Settings
from frs.export.parity import MIN_COSINE
from frs.packs.info import PackInfo
from frs.pipeline.align import align_face
from frs.pipeline.analyzer import load_analyzer
from frs.service import FaceService
from tests.export.support import ExportSession, native_input, torch_embeddings, unit


@pytest.fixture(scope="module")
def pack_settings(export_session: ExportSession, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if not (REPO_ROOT / "models" / "open" / "yunet_2023mar.onnx").is_file():
        pytest.fail("open pack missing: run `make models` (or `frs models fetch --pack open`)")
    return Settings(
        pack=export_session.adaface.name,
        models_dir=export_session.models_dir,
        threads=2,
        gallery_uri=str(tmp_path_factory.mktemp("galleries")),
    )


def test_detects_with_the_borrowed_detector(pack_settings: Settings, testdata: Path) -> None:
    analyzer = load_analyzer(pack_settings)
    assert analyzer.pack == PackInfo(name="myada", dim=512)
    assert analyzer.match_threshold == 0.3
    photo = (testdata / "solvay_conference_1927.jpg").read_bytes()
    faces = analyzer.analyze(photo).faces
    reference = load_analyzer(Settings(pack="open", threads=2)).analyze(photo, embed=False).faces
    assert len(faces) == len(reference) >= 25
    assert [f.bbox for f in faces] == [f.bbox for f in reference]
    for face in faces:
        assert face.embedding is not None and face.embedding.shape == (512,)
        assert np.isfinite(face.embedding).all()
        assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-5


def test_pipeline_embeddings_are_the_checkpoint_models(
    pack_settings: Settings, export_session: ExportSession, testdata: Path
) -> None:
    analyzer = load_analyzer(pack_settings)
    crops, embeddings = [], []
    for name in ("person_a_1.jpg", "person_b_1.jpg", "newton.png"):
        data = (testdata / name).read_bytes()
        (face,) = analyzer.analyze(data).faces
        image = analyzer.decode(data)
        assert face.embedding is not None
        crops.append(align_face(image.rgb, face.landmarks / image.scale, (112, 112)))
        embeddings.append(face.embedding)
    expected = unit(torch_embeddings(export_session.adaface.model, native_input(np.stack(crops), "adaface")))
    cosines = np.sum(unit(np.stack(embeddings)) * expected, axis=1)
    assert cosines.min() >= MIN_COSINE


def test_enrol_and_identify(pack_settings: Settings, testdata: Path) -> None:
    service = FaceService(pack_settings)
    alice, bob = (testdata / "person_a_1.jpg").read_bytes(), (testdata / "person_b_1.jpg").read_bytes()
    service.add("exported", "alice", alice)
    service.add("exported", "bob", bob)
    for photo, who in ((alice, "alice"), (bob, "bob")):
        (face,) = service.identify("exported", photo)["faces"]
        assert face["identity"] == who
        assert face["similarity"] >= 0.999
