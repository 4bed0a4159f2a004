"""face_recognition (dlib) as a peer: its own pipeline on real photos, its distance as a similarity, and its
documented tolerance as the operating point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frs.errors import FRSError
from frs.evaluation.face_recognition_peer import (
    TOLERANCE,
    distance_similarity,
    face_recognition_system,
    import_face_recognition,
    load_rgb,
)
from frs.evaluation.systems import EvalSystem


@pytest.fixture(scope="module")
def peer() -> EvalSystem:
    return face_recognition_system()


def test_similarity_is_one_minus_the_librarys_distance() -> None:
    fr = import_face_recognition()
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 0.1, (3, 128)), rng.normal(0, 0.1, (4, 128))
    expected = np.array([1.0 - fr.face_distance(b, row) for row in a])
    assert distance_similarity(a.astype(np.float32), b.astype(np.float32)) == pytest.approx(
        expected, abs=1e-5
    )
    one = a[:1].astype(np.float32)
    assert distance_similarity(one, one)[0, 0] == pytest.approx(1.0)  # no NaN from a tiny negative square


def test_its_operating_point_is_the_documented_tolerance_at_every_gallery_size(peer: EvalSystem) -> None:
    assert TOLERANCE == 0.6
    for faces in (1, 52):
        point = peer.identification_point(faces)
        assert point.threshold == pytest.approx(0.4)
        assert (point.source, point.gallery_size) == ("peer_default", faces)
    assert peer.verification_point.threshold == pytest.approx(0.4)
    assert not peer.normalise  # the tolerance is defined on the raw descriptors


def test_it_finds_and_describes_real_faces(peer: EvalSystem, testdata: Path) -> None:
    (one,) = peer.embed(testdata / "person_b_1.jpg")
    x1, y1, x2, y2 = one.bbox
    assert 0 <= x1 < x2 and 0 <= y1 < y2
    assert one.embedding is not None and one.embedding.shape == (128,)
    same = peer.embed(testdata / "person_b_2.jpg")[0].embedding
    other = peer.embed(testdata / "impostor_1.jpg")[0].embedding
    assert same is not None and other is not None
    scores = distance_similarity(np.stack([one.embedding]), np.stack([same, other]))[0]
    assert scores[0] >= 0.4 > scores[1]  # same person within the tolerance, the impostor outside


def test_a_truncated_photo_is_refused_not_half_read(testdata: Path) -> None:
    data = (testdata / "person_b_1.jpg").read_bytes()
    import_face_recognition()
    with pytest.raises(FRSError) as caught:
        load_rgb(data[: len(data) // 2])
    assert caught.value.code == "invalid_image"
