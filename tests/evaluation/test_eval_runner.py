"""The runner end to end, with an injected ``embed`` returning hand-made embeddings.

The fake embed stands in for the face pipeline (an input of the runner); everything else is the real code.
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

from frs.errors import FRSError
from frs.evaluation.dataset import scan_dataset, split_dataset
from frs.evaluation.metrics import equal_error_rate, roc_curve, tar_at_far
from frs.evaluation.runner import Face, evaluate_dataset, evaluate_pairs
from frs.packs.info import PackInfo

BIG = (0.0, 0.0, 100.0, 100.0)
SMALL = (0.0, 0.0, 10.0, 10.0)


def _v(*values: float) -> np.ndarray:
    vector = np.zeros(4, dtype=np.float32)
    vector[: len(values)] = values
    return vector


def _face(*values: float, bbox: tuple[float, float, float, float] = BIG) -> Face:
    return Face(bbox=bbox, embedding=_v(*values))


# Gallery (k=1): a1 = e1, b1 = e2, c1 = e3. Identity "u" is held out as unknown.
FACES: dict[str, Any] = {
    "a/a1.jpg": [_face(1, 0, 0, 0)],
    "a/a2.jpg": [_face(0.8, 0.6, 0, 0)],  # A 0.8, B 0.6: correct, accepted
    "a/a3.jpg": FRSError("invalid_image", "cannot decode"),
    "a/a4.jpg": [_face(0.4, 0, 0, math.sqrt(0.84))],  # A 0.4: correct but below the threshold
    "b/b1.jpg": [_face(0, 1, 0, 0)],
    "b/b2.jpg": [_face(0.6, 0.8, 0, 0)],  # B 0.8: correct, accepted
    # Two faces: the large one (B 0.9) is used, the small one would look unknown.
    "b/b3.jpg": [_face(0, 0, 0, 1, bbox=SMALL), _face(0, 0.9, 0, math.sqrt(1 - 0.81))],
    "c/c1.jpg": [_face(0, 0, 1, 0)],
    "c/c2.jpg": [_face(0.8, 0, 0.6, 0)],  # A 0.8 beats C 0.6: misidentified
    "c/c3.jpg": [],  # no face
    "u/u1.jpg": [_face(0.5, 0, 0, math.sqrt(0.75))],  # A 0.5: falsely accepted at 0.45
    "u/u2.jpg": [_face(0, 0, 0, 1)],  # 0 everywhere: rejected
}
THRESHOLD = 0.45


def _make_tree(root: Path, names: Iterable[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")


def _fake_embed(root: Path, faces: dict[str, Any], calls: Counter[str]) -> Callable[[Path], list[Any]]:
    def embed(path: Path) -> list[Any]:
        key = path.relative_to(root).as_posix()
        calls[key] += 1
        found = faces[key]
        if isinstance(found, Exception):
            raise found
        return list(found)

    return embed


def _seed_holding_out(root: Path, identity: str, share: float) -> int:
    identities = scan_dataset(root)
    return next(
        seed
        for seed in range(200)
        if split_dataset(identities, unknown_share=share, seed=seed).unknown_identities == (identity,)
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    _make_tree(tmp_path, FACES)
    return tmp_path


def test_dataset_evaluation_end_to_end(dataset):
    calls: Counter[str] = Counter()
    seed = _seed_holding_out(dataset, "u", 0.25)
    result = evaluate_dataset(
        dataset,
        _fake_embed(dataset, FACES, calls),
        unknown_share=0.25,
        seed=seed,
        threshold=THRESHOLD,
        progress=False,
        pack=PackInfo("fake", 4),
    )
    assert calls == Counter(dict.fromkeys(FACES, 1))  # every image embedded exactly once

    ident = result.identification
    assert ident is not None
    assert (ident.n_gallery_identities, ident.n_gallery_images) == (3, 3)
    assert (ident.n_known_probes, ident.n_unknown_probes) == (5, 2)  # a2 a4 b2 b3 c2 | u1 u2
    assert ident.top1 == pytest.approx(4 / 5)
    assert ident.top5 == 1.0
    open_set = ident.open_set
    assert (open_set.true_accepts, open_set.misidentified, open_set.false_rejects) == (3, 1, 1)
    assert open_set.false_accepts == 1
    assert open_set.precision == pytest.approx(3 / 5)
    assert open_set.recall == pytest.approx(3 / 5)
    assert open_set.false_accept_rate == pytest.approx(1 / 2)
    assert open_set.false_reject_rate == pytest.approx(1 / 5)

    assert result.issues.no_face == ["c/c3.jpg"]
    assert result.issues.multiple_faces == ["b/b3.jpg"]
    assert result.issues.failed == [{"path": "a/a3.jpg", "code": "invalid_image", "message": "cannot decode"}]
    assert result.counts["images"] == 12
    assert result.counts["embedded_images"] == 10

    verification = result.verification
    assert verification is not None
    genuine = sorted(verification.genuine.tolist())
    # a1-a2, a1-a4, a2-a4 | b1-b2, b1-b3, b2-b3 | c1-c2 | u1-u2
    assert genuine == pytest.approx(sorted([0.8, 0.4, 0.32, 0.8, 0.9, 0.72, 0.6, math.sqrt(0.75)]), abs=1e-6)
    # Impostors by brute force over the images with a face (b3 uses its large face).
    used = {k: v[-1].embedding for k, v in FACES.items() if isinstance(v, list) and v}
    impostor = [
        float(used[p] @ used[q]) for p in used for q in used if p < q and p.split("/")[0] != q.split("/")[0]
    ]
    assert len(impostor) == 45 - 8
    assert sorted(verification.impostor.tolist()) == pytest.approx(sorted(impostor), abs=1e-6)
    assert max(impostor) == pytest.approx(0.2 + math.sqrt(0.84 * 0.75))  # a4 . u1
    # The summary numbers are those of the metric functions on the same scores.
    roc = roc_curve(verification.genuine, verification.impostor)
    assert verification.eer == equal_error_rate(roc)
    assert verification.tar_at_far[0][1] == tar_at_far(roc, 1e-2)
    assert verification.best.criterion == "balanced_accuracy"
    assert verification.at_threshold.tar == pytest.approx(6 / 8)  # all but a1-a4 (0.4) and a2-a4 (0.32)


def test_to_dict_is_strict_json(dataset):
    seed = _seed_holding_out(dataset, "u", 0.25)
    embed = _fake_embed(dataset, FACES, Counter())
    result = evaluate_dataset(
        dataset, embed, unknown_share=0.25, seed=seed, threshold=THRESHOLD, progress=False
    )
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["mode"] == "dataset"
    assert data["identification"]["top1"] == pytest.approx(0.8)
    assert data["verification"]["n_genuine"] == 8
    assert data["verification"]["roc"]["thresholds"][0] is None  # +inf has no JSON form
    # 37 impostor pairs: FAR 1e-2 and 1e-3 cannot be measured.
    assert [entry["unmeasurable"] for entry in data["verification"]["tar_at_far"]] == [True, True]
    assert data["issues"]["no_face"] == ["c/c3.jpg"]
    assert data["parameters"] == {"k": 1, "unknown_share": 0.25, "seed": seed}


def test_enrolled_identity_without_gallery_face_counts_as_unknown(dataset):
    faces = {**FACES, "c/c1.jpg": []}
    result = evaluate_dataset(
        dataset,
        _fake_embed(dataset, faces, Counter()),
        unknown_share=0.0,
        threshold=THRESHOLD,
        progress=False,
    )
    ident = result.identification
    assert ident is not None
    assert ident.identities_without_gallery_face == ("c",)
    assert ident.n_gallery_identities == 3  # a, b, u
    assert ident.n_unknown_probes == 1  # c2 (c3 has no face)
    assert "c/c1.jpg" in result.issues.no_face


def test_missing_sections_are_explained(tmp_path):
    faces = {"a/a1.jpg": [_face(1, 0, 0, 0)], "b/b1.jpg": [_face(0, 1, 0, 0)]}
    _make_tree(tmp_path, faces)
    result = evaluate_dataset(
        tmp_path, _fake_embed(tmp_path, faces, Counter()), unknown_share=0.0, threshold=0.5, progress=False
    )
    assert result.identification is None
    assert result.verification is None
    assert any("identification skipped" in note for note in result.notes)
    assert any("verification skipped" in note for note in result.notes)
    assert result.to_dict()["verification"] is None


def test_progress_bar_goes_to_stderr(dataset, capsys):
    evaluate_dataset(
        dataset, _fake_embed(dataset, FACES, Counter()), unknown_share=0.0, threshold=THRESHOLD, progress=True
    )
    captured = capsys.readouterr()
    assert "embedding" in captured.err
    assert captured.out == ""


def test_zero_embedding_is_listed_as_failed(tmp_path):
    faces = {
        "a/a1.jpg": [_face(0, 0, 0, 0)],
        "a/a2.jpg": [_face(1, 0, 0, 0)],
        "b/b1.jpg": [_face(0, 1, 0, 0)],
    }
    _make_tree(tmp_path, faces)
    result = evaluate_dataset(
        tmp_path, _fake_embed(tmp_path, faces, Counter()), unknown_share=0.0, threshold=0.5, progress=False
    )
    assert [f["path"] for f in result.issues.failed] == ["a/a1.jpg"]
    assert result.issues.failed[0]["code"] == "invalid_embedding"


# ----------------------------------------------------------------------------------------------------- pairs


def test_pairs_evaluation(tmp_path):
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
        "p/x1.jpg,p/none.jpg,1\n",  # skipped: no face
        encoding="utf-8",
    )
    calls: Counter[str] = Counter()
    result = evaluate_pairs(csv_path, _fake_embed(tmp_path, faces, calls), 0.5, progress=False)
    assert max(calls.values()) == 1  # x1 appears in four pairs, embedded once
    assert result.mode == "pairs"
    assert result.counts == {
        "pairs": 5,
        "genuine_pairs": 2,
        "impostor_pairs": 2,
        "skipped_pairs": 1,
        "images": 5,
        "embedded_images": 4,
    }
    verification = result.verification
    assert verification is not None
    assert sorted(verification.genuine.tolist()) == pytest.approx([0.9, math.sqrt(0.91)], abs=1e-6)
    assert verification.eer.rate == 0.0
    assert verification.best.criterion == "accuracy"
    assert verification.best.accuracy == 1.0
    assert verification.best.threshold == pytest.approx(0.9, abs=1e-6)
    assert (verification.at_threshold.tar, verification.at_threshold.far) == (1.0, 0.0)
    assert result.issues.no_face == ["p/none.jpg"]


def test_pairs_without_impostors_have_no_verification(tmp_path):
    faces = {"x1.jpg": [_face(1, 0, 0, 0)], "x2.jpg": [_face(1, 0, 0, 0)]}
    _make_tree(tmp_path, faces)
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text("a,b,same\nx1.jpg,x2.jpg,1\n", encoding="utf-8")
    result = evaluate_pairs(csv_path, _fake_embed(tmp_path, faces, Counter()), 0.5, progress=False)
    assert result.verification is None
    assert result.notes


@dataclass(frozen=True)
class _DetectedOnly:
    bbox: tuple[float, float, float, float]
    embedding: None = None  # what the pipeline returns when asked to detect without embedding


def test_face_without_embedding_is_listed_as_failed(tmp_path):
    faces: dict[str, Any] = {
        "a/a1.jpg": [_DetectedOnly(BIG)],
        "a/a2.jpg": [_face(1, 0, 0, 0)],
        "b/b1.jpg": [_face(0, 1, 0, 0)],
    }
    _make_tree(tmp_path, faces)
    result = evaluate_dataset(
        tmp_path, _fake_embed(tmp_path, faces, Counter()), unknown_share=0.0, threshold=0.5, progress=False
    )
    assert result.issues.failed == [
        {"path": "a/a1.jpg", "code": "invalid_embedding", "message": "the face has no embedding"}
    ]
