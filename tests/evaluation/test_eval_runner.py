"""The runner end to end, with a system whose face pipeline returns hand-made vectors.

The fake pipeline stands in for the detector and embedder (an input of the runner); the protocol, the search,
the rates and the JSON are the real code. Vectors are chosen so the outcomes can be counted by hand.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from frs.decision.operating_point import fixed_operating_point
from frs.errors import FRSError
from frs.evaluation.artifacts import save_evaluation
from frs.evaluation.embeddings import Face
from frs.evaluation.protocol import draw_galleries
from frs.evaluation.runner import SCHEMA, Protocol, evaluate_dataset, evaluate_pairs
from frs.evaluation.systems import EvalSystem, cosine

BIG = (0.0, 0.0, 100.0, 100.0)
SMALL = (0.0, 0.0, 10.0, 10.0)
THRESHOLD = 0.5


def _v(*values: float) -> np.ndarray:
    vector = np.zeros(4, dtype=np.float32)
    vector[: len(values)] = values
    return vector


def _face(*values: float, bbox: tuple[float, float, float, float] = BIG) -> Face:
    return Face(bbox=bbox, embedding=_v(*values))


# a: two photos of e1. b: two photos of e2 and one without a face. c, d, e: one photo each, never enrolled
# (only identities with two photos can be). c scores 0.6 with a: a stranger named at 0.5. d has two faces:
# the large one (e4, scores 0) is used; the small one would be a's double. e's file cannot be read.
FACES: dict[str, Any] = {
    "a/a1.jpg": [_face(1, 0, 0, 0)],
    "a/a2.jpg": [_face(2, 0, 0, 0)],  # normalised to e1
    "b/b1.jpg": [_face(0, 1, 0, 0)],
    "b/b2.jpg": [_face(0, 1, 0, 0)],
    "b/b3.jpg": [],
    "c/c1.jpg": [_face(0.6, 0, 0.8, 0)],
    "d/d1.jpg": [_face(1, 0, 0, 0, bbox=SMALL), _face(0, 0, 0, 1)],
    "e/e1.jpg": FRSError("invalid_image", "cannot decode"),
}


def _make_tree(root: Path, names: Iterable[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


def _system(
    root: Path,
    faces: dict[str, Any],
    calls: Counter[str],
    threshold: Callable[[int], float] = lambda faces: THRESHOLD,
) -> EvalSystem:
    def embed(path: Path) -> list[Any]:
        key = path.relative_to(root).as_posix()
        calls[key] += 1
        found = faces[key]
        if isinstance(found, Exception):
            raise found
        return list(found)

    return EvalSystem(
        name="fake",
        label="Fake system",
        details={"pipeline": "hand-made vectors"},
        score="cosine",
        embed=embed,
        normalise=True,
        similarity=cosine,
        identification_point=lambda n: fixed_operating_point(threshold(n), gallery_size=n, source="explicit"),
        verification_point=fixed_operating_point(THRESHOLD, kind="far", source="explicit"),
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    _make_tree(tmp_path, FACES)
    return tmp_path


def _expected(root: Path, size: int, draws: int, seed: int) -> tuple[int, int, int, int]:
    """(missed mated searches, mated searches, strangers named, stranger searches) by the rules, from the same
    seeded draws the runner makes. b3 has no face: searching with it is a miss, and enrolling it leaves b's
    other photos without a mate. c scores 0.6 with a's photos: whichever of the two is enrolled, the other's
    photos are strangers named at 0.5. Nothing else scores that high."""
    identities = {name: sorted((root / name).iterdir()) for name in "abcde"}
    missed = total = named = strangers = 0
    for draw in draw_galleries(identities, size, draws, seed):
        enrolled = {name: path for name, path in draw.enrolled}
        b_probes = [path for name, path in draw.mated if name == "b"]
        if "b" in enrolled:
            no_mate = enrolled["b"].name == "b3.jpg"
            missed += len(b_probes) if no_mate else sum(p.name == "b3.jpg" for p in b_probes)
        total += len(draw.mated)
        if "a" in enrolled and "c" not in enrolled:
            named += 1
        if "c" in enrolled and "a" not in enrolled:
            named += 2
        strangers += len(draw.nonmated)
    return missed, total, named, strangers


def test_dataset_evaluation_end_to_end(dataset: Path) -> None:
    calls: Counter[str] = Counter()
    protocol = Protocol(gallery_sizes=(1, "all", 10), draws=6, seed=3)
    result = evaluate_dataset(dataset, [_system(dataset, FACES, calls)], protocol=protocol, progress=False)
    assert calls == Counter(dict.fromkeys(FACES, 1))  # every image embedded exactly once
    assert result.dataset["identities_with_two_or_more_photos"] == 2
    assert result.protocol["gallery_sizes"] == [1, 2]
    # 2 people can be searched for; a gallery holds one of them and up to the 3 others: at most 4.
    assert result.notes == (
        "gallery sizes 10 skipped: the dataset holds galleries of at most 4 "
        "(2 identities have 2 or more photos)",
    )

    (system,) = result.systems
    assert system.images.issues.no_face == ["b/b3.jpg"]
    assert system.images.issues.multiple_faces == ["d/d1.jpg"]
    assert system.images.issues.failed == [
        {"path": "e/e1.jpg", "code": "invalid_image", "message": "cannot decode"}
    ]

    assert system.identification is not None
    everyone = system.identification[1]
    assert (everyone.gallery_size, everyone.draws) == (2, 6)
    missed, mated, named, strangers = _expected(dataset, 2, 6, 3)
    assert (everyone.at_point.fnir.count, everyone.at_point.fnir.n) == (missed, mated)
    assert (everyone.at_point.fpir.count, everyone.at_point.fpir.n) == (named, strangers)
    assert everyone.at_point.named_wrongly == 0
    assert everyone.distinct_photos["mated"] <= 5 and everyone.distinct_photos["nonmated"] <= 8
    assert everyone.rank_one.count == mated - missed  # the misses are failures, not low scores
    # A handful of distinct non-mated photos: no FPIR target of 1% or 0.1% can be measured.
    assert [found for _, found in everyone.at_fpir] == [None, None]


def test_verification_counts_pairs_without_a_face_as_rejected(dataset: Path) -> None:
    result = evaluate_dataset(dataset, [_system(dataset, FACES, Counter())], progress=False)
    verification = result.systems[0].verification
    assert verification is not None
    # 8 photos: genuine a1-a2 and b1-b2, b1-b3, b2-b3; 28 - 4 = 24 impostor pairs.
    assert (verification.roc.n_genuine, verification.roc.n_impostor) == (4, 24)
    # b3 (no face) and e1 (failed) are in 2 genuine and 5 + 6 impostor pairs.
    assert verification.failed_pairs == {"genuine": 2, "impostor": 11}
    tar, far = verification.at_point
    assert (tar.count, tar.n) == (2, 4)  # a1-a2 and b1-b2 at 1.0
    assert (far.count, far.n) == (2, 24)  # c1 with a1 and a2 at 0.6
    assert sorted(verification.genuine.tolist()) == [
        -math.inf,
        -math.inf,
        pytest.approx(1.0),
        pytest.approx(1.0),
    ]


def test_each_draw_uses_the_point_for_its_own_enrolled_faces(dataset: Path) -> None:
    """A draw that enrols b3 or e1 (no vector) has one face fewer, and FRS would use the threshold for it."""
    system = _system(dataset, FACES, Counter(), threshold=lambda faces: 0.5 if faces == 3 else 0.7)
    protocol = Protocol(gallery_sizes=(3,), draws=30, seed=0)
    (size,) = (
        evaluate_dataset(dataset, [system], protocol=protocol, progress=False).systems[0].identification or ()
    )
    assert size.enrolled_faces[0] < 3 and size.enrolled_faces[1] == 3
    assert size.thresholds_used == (0.5, 0.7)
    assert size.point.threshold == 0.5  # the nominal point: N = 3


def test_eval_json_is_strict_json_with_plots(dataset: Path, tmp_path: Path) -> None:
    result = evaluate_dataset(
        dataset,
        [_system(dataset, FACES, Counter())],
        protocol=Protocol(gallery_sizes=("all",), draws=2),
        command="frs eval x",
        progress=False,
    )
    written = save_evaluation(result, tmp_path / "out")
    data = json.loads(written["json"].read_text())
    assert data["schema"] == SCHEMA and data["mode"] == "dataset" and data["command"] == "frs eval x"
    assert data["measured_at"].endswith("Z") and data["machine"]["cores_logical"] >= 1
    (system,) = data["systems"]
    assert system["plots"] == {"det": "det-fake.png", "roc": "roc-fake.png", "scores": "scores-fake.png"}
    assert all((tmp_path / "out" / name).stat().st_size > 1000 for name in system["plots"].values())
    size = system["identification"]["gallery_sizes"][0]
    _, _, named, strangers = _expected(dataset, 2, 2, 0)
    assert size["gallery_size"] == 2 and size["searches"]["nonmated"] == strangers
    point = size["default_operating_point"]
    assert point["source"] == "explicit"
    assert point["fpir"] == {
        "rate": named / strangers,
        "count": named,
        "n": strangers,
        "ci95": point["fpir"]["ci95"],
    }
    assert "fpir_over_target" not in point  # a fixed threshold has no target to miss
    assert size["det"]["thresholds"][0] is None  # +inf has no JSON form
    assert [row["measurable"] for row in size["fnir_at_fpir"]] == [False, False]
    assert size["fnir_at_fpir"][0]["reason"].startswith("needs 100 distinct non-mated photos, has ")
    verification = system["verification"]
    assert [row["measurable"] for row in verification["tar_at_far"]] == [False, False, False]
    assert verification["default_operating_point"]["tar"]["count"] == 2


def test_a_dataset_without_repeat_photos_has_verification_only(tmp_path: Path) -> None:
    faces = {"a/a1.jpg": [_face(1, 0, 0, 0)], "b/b1.jpg": [_face(0, 1, 0, 0)]}
    _make_tree(tmp_path, faces)
    result = evaluate_dataset(tmp_path, [_system(tmp_path, faces, Counter())], progress=False)
    assert result.systems[0].identification is None
    assert result.systems[0].verification is None  # no genuine pair either
    assert "identification skipped: no identity has 2 or more photos" in result.notes


def test_progress_bar_goes_to_stderr(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evaluate_dataset(dataset, [_system(dataset, FACES, Counter())], progress=True)
    captured = capsys.readouterr()
    assert "embedding (fake)" in captured.err
    assert captured.out == ""


@dataclass(frozen=True)
class _DetectedOnly:
    bbox: tuple[float, float, float, float]
    embedding: None = None  # what the pipeline returns when asked to detect without embedding


def test_unusable_embeddings_are_listed_as_failed(tmp_path: Path) -> None:
    faces: dict[str, Any] = {
        "a/a1.jpg": [_DetectedOnly(BIG)],
        "a/a2.jpg": [_face(0, 0, 0, 0)],
        "b/b1.jpg": [_face(0, 1, 0, 0)],
    }
    _make_tree(tmp_path, faces)
    result = evaluate_dataset(tmp_path, [_system(tmp_path, faces, Counter())], progress=False)
    assert result.systems[0].images.issues.failed == [
        {"path": "a/a1.jpg", "code": "invalid_embedding", "message": "the face has no embedding"},
        {"path": "a/a2.jpg", "code": "invalid_embedding", "message": "zero or non-finite embedding"},
    ]


# ----------------------------------------------------------------------------------------------------- pairs


def test_pairs_evaluation(tmp_path: Path) -> None:
    faces = {
        "p/x1.jpg": [_face(1, 0, 0, 0)],
        "p/x2.jpg": [_face(0.9, math.sqrt(0.19), 0, 0)],
        "p/y1.jpg": [_face(0, 1, 0, 0)],
        "p/y2.jpg": [_face(0.3, math.sqrt(0.91), 0, 0)],
        "p/none.jpg": [],
    }
    _make_tree(tmp_path, faces)
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text(
        "a,b,same\n"
        "p/x1.jpg,p/x2.jpg,1\n"  # 0.9
        "p/y1.jpg,p/y2.jpg,1\n"  # sqrt(0.91) ~ 0.954
        "p/x1.jpg,p/y1.jpg,0\n"  # 0
        "p/x1.jpg,p/y2.jpg,0\n"  # 0.3
        "p/x1.jpg,p/none.jpg,1\n",  # no face: a false reject
        encoding="utf-8",
    )
    calls: Counter[str] = Counter()
    result = evaluate_pairs(csv_path, [_system(tmp_path, faces, calls)], progress=False)
    assert max(calls.values()) == 1  # x1 appears in four pairs, embedded once
    assert result.mode == "pairs"
    assert result.dataset == {
        "source": str(csv_path),
        "name": "pairs.csv",
        "pairs": 5,
        "genuine_pairs": 3,
        "impostor_pairs": 2,
        "images": 5,
        "folds": None,
    }
    verification = result.systems[0].verification
    assert verification is not None
    assert verification.kfold is None
    assert verification.failed_pairs == {"genuine": 1, "impostor": 0}
    tar, far = verification.at_point
    assert (tar.count, tar.n, far.count, far.n) == (2, 3, 0, 2)
    assert result.systems[0].images.issues.no_face == ["p/none.jpg"]


def test_pairs_with_folds_report_kfold_accuracy(tmp_path: Path) -> None:
    faces = {
        "x1.jpg": [_face(1, 0, 0, 0)],
        "x2.jpg": [_face(0.9, math.sqrt(0.19), 0, 0)],
        "y1.jpg": [_face(0, 1, 0, 0)],
        "y2.jpg": [_face(0.3, math.sqrt(0.91), 0, 0)],
        "none.jpg": [],
    }
    _make_tree(tmp_path, faces)
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text(
        "a,b,same,fold\n"
        "x1.jpg,x2.jpg,1,A\n"  # 0.9
        "x1.jpg,y1.jpg,0,A\n"  # 0
        "y1.jpg,y2.jpg,1,B\n"  # 0.954
        "x1.jpg,y2.jpg,0,B\n"  # 0.3
        "x2.jpg,none.jpg,1,B\n",  # no face: rejected whatever the threshold
        encoding="utf-8",
    )
    result = evaluate_pairs(csv_path, [_system(tmp_path, faces, Counter())], progress=False)
    assert result.dataset["folds"] == 2
    verification = result.systems[0].verification
    assert verification is not None and verification.kfold is not None
    assert verification.kfold.accuracies == pytest.approx((1.0, 2 / 3))
    assert verification.kfold.failed_pairs == 1
    assert verification.to_dict()["kfold_accuracy"]["pairs_per_fold"] == [2, 3]


def test_pairs_without_impostors_have_no_verification(tmp_path: Path) -> None:
    faces = {"x1.jpg": [_face(1, 0, 0, 0)], "x2.jpg": [_face(1, 0, 0, 0)]}
    _make_tree(tmp_path, faces)
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text("a,b,same\nx1.jpg,x2.jpg,1\n", encoding="utf-8")
    result = evaluate_pairs(csv_path, [_system(tmp_path, faces, Counter())], progress=False)
    assert result.systems[0].verification is None
    assert result.notes == ("verification needs at least one same and one different pair",)


def test_the_face_rule_chooses_which_face_a_photo_with_several_stands_for(tmp_path: Path) -> None:
    from PIL import Image

    from frs.evaluation.embeddings import embed_images

    photo = tmp_path / "p" / "group.png"
    photo.parent.mkdir()
    Image.new("RGB", (200, 100)).save(photo)  # the centre is (100, 50)
    bystander = _face(1, 0, 0, 0, bbox=(0.0, 0.0, 80.0, 100.0))  # larger, at the left edge
    subject = _face(0, 1, 0, 0, bbox=(80.0, 30.0, 120.0, 70.0))  # smaller, centred

    def chosen(rule: Any) -> np.ndarray:
        images = embed_images(
            [photo],
            lambda _: [bystander, subject],
            tmp_path,
            normalise=True,
            progress=False,
            label="t",
            face_rule=rule,
        )
        assert images.issues.multiple_faces == ["p/group.png"]
        vector = images.get(photo)
        assert vector is not None
        return vector

    assert chosen("largest").tolist() == _v(1).tolist()
    assert chosen("centre").tolist() == _v(0, 1).tolist()


def test_the_face_rule_is_recorded_in_the_protocol(dataset: Path) -> None:
    protocol = Protocol(gallery_sizes=(1,), draws=1, face_rule="centre")
    calls: Counter[str] = Counter()
    single = {key: value for key, value in FACES.items() if key != "d/d1.jpg"}
    (dataset / "d" / "d1.jpg").unlink()
    result = evaluate_dataset(dataset, [_system(dataset, single, calls)], protocol=protocol, progress=False)
    assert result.protocol["face_rule"] == "centre"
    assert result.to_dict()["protocol"]["face_rule"] == "centre"


def test_the_centre_rule_sees_the_photo_turned_as_its_exif_orientation_says(tmp_path: Path) -> None:
    from PIL import Image

    from frs.evaluation.embeddings import image_size

    plain, turned = tmp_path / "plain.jpg", tmp_path / "turned.jpg"
    Image.new("RGB", (200, 100)).save(plain)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 200x100, shown (and decoded by the pipeline) turned a quarter
    Image.new("RGB", (200, 100)).save(turned, exif=exif)
    assert image_size(plain) == (200, 100)
    assert image_size(turned) == (100, 200)
