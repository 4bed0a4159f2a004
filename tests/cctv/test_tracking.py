"""Linking faces into tracks, on synthetic embeddings with known identities."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from frs.cctv.tracking import LinkRules, Observation, Track, iou, link

RULES = LinkRules.for_threshold(0.36)
rng = np.random.default_rng(7)
PERSON = {
    name: v / np.linalg.norm(v) for name, v in (("A", rng.normal(size=128)), ("B", rng.normal(size=128)))
}


def _near(person: str, noise: float = 0.25) -> npt.NDArray[np.float32]:
    v = PERSON[person] + rng.normal(size=128) * noise / np.sqrt(128)
    return np.asarray(v / np.linalg.norm(v), dtype=np.float32)


def face(person: str, t: float, x: float, quality: float = 1.0, size: float = 80) -> Observation:
    return Observation(t, (x, 100, x + size, 100 + size), _near(person), 0.9, quality, {"score": quality})


def test_one_person_standing_still_is_one_track():
    tracks = link([[face("A", t / 2, 100 + t)] for t in range(10)], RULES)
    assert [len(t.observations) for t in tracks] == [10]


def test_two_people_side_by_side_stay_two_tracks():
    frames = [[face("A", t / 2, 100 + 2 * t), face("B", t / 2, 300 - 2 * t)] for t in range(8)]
    tracks = link(frames, RULES)
    assert len(tracks) == 2
    for track in tracks:
        people = {
            max(PERSON, key=lambda p: float(np.dot(PERSON[p], o.embedding))) for o in track.observations
        }
        assert len(people) == 1


def test_a_different_person_in_the_same_place_starts_a_new_track():
    frames = [[face("A", t / 2, 200)] for t in range(4)] + [[face("B", 2 + t / 2, 200)] for t in range(4)]
    tracks = link(frames, RULES)
    assert [len(t.observations) for t in tracks] == [4, 4]
    assert tracks[1].observations[0].time_s == 2.0


def test_a_jump_without_overlap_links_only_on_a_strong_resemblance():
    jumped = link([[face("A", 0, 0)], [face("A", 0.5, 400)]], RULES)
    assert len(jumped) == 1  # same person (similarity ~0.97): moved, not a new track
    weak = LinkRules(link_similarity=0.36, strong_similarity=0.999)
    assert len(link([[face("A", 0, 0)], [face("A", 0.5, 400)]], weak)) == 2


def test_a_track_closes_after_the_gap():
    tracks = link([[face("A", 0, 100)], [face("A", 2.5, 100)]], RULES)
    assert len(tracks) == 2


def test_the_pooled_embedding_weighs_quality_and_the_best_face_is_the_sharpest():
    sharp = face("A", 0, 100, quality=0.9)
    blurred = Observation(0.5, (100, 100, 180, 180), PERSON["B"].astype(np.float32), 0.6, 0.01, {})
    track = Track([sharp, blurred])
    pooled = track.pooled_embedding()
    assert abs(float(np.linalg.norm(pooled)) - 1) < 1e-5
    assert float(np.dot(pooled, PERSON["A"])) > 0.9 > float(np.dot(pooled, PERSON["B"]))
    assert track.best is sharp


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == 1 / 3
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
