"""The adapter over FaceService.identify's answer reads both vocabularies the same way."""

from __future__ import annotations

from frs.cctv.answers import read_identify_answer

TODAY = {
    "image": {"width": 10, "height": 10},
    "threshold": 0.36,
    "faces": [
        {
            "bbox": [1, 2, 50, 60],
            "score": 0.9,
            "identity": "A",
            "similarity": 0.7,
            "candidates": [{"name": "A", "similarity": 0.7}, {"name": "B", "similarity": 0.1}],
        },
        {
            "bbox": [0, 0, 30, 30],
            "score": 0.8,
            "identity": None,
            "similarity": 0.2,
            "candidates": [{"name": "A", "similarity": 0.2}],
        },
        {"bbox": [0, 0, 30, 30], "score": 0.8, "identity": None, "similarity": None, "candidates": []},
    ],
}
NEXT = {
    "image": {"width": 10, "height": 10},
    "threshold": 0.41,
    "operating_point": {
        "basis": "target_fpir",
        "target_fpir": 0.01,
        "gallery_size": 2,
        "quality_filter": "low",
    },
    "faces": [
        {
            "bbox": [1, 2, 50, 60],
            "det_score": 0.9,
            "quality": {"score": 0.8, "face_px": 49},
            "identity": "A",
            "similarity": 0.7,
            "reason": None,
            "candidates": [{"identity": "A", "similarity": 0.7}, {"identity": "B", "similarity": 0.1}],
        },
        {
            "bbox": [0, 0, 30, 30],
            "det_score": 0.5,
            "quality": {"score": 0.1},
            "identity": None,
            "similarity": 0.6,
            "reason": "low_quality",
            "candidates": [{"identity": "A", "similarity": 0.6}],
        },
    ],
}


def test_both_vocabularies_give_the_same_faces():
    today, upcoming = read_identify_answer(TODAY), read_identify_answer(NEXT)
    assert today.faces[0].to_dict() | {"quality": None} == upcoming.faces[0].to_dict() | {"quality": None}
    assert today.faces[0].candidates == (("A", 0.7), ("B", 0.1))
    assert today.faces[0].det_score == 0.9 and today.faces[0].reason is None
    assert today.operating_point is None and upcoming.operating_point is not None
    assert upcoming.faces[0].quality == {"score": 0.8, "face_px": 49}


def test_reasons_are_derived_when_the_answer_has_none_and_kept_when_it_has_one():
    today = read_identify_answer(TODAY)
    assert [f.reason for f in today.faces] == [None, "below_threshold", "empty_gallery"]
    assert read_identify_answer(NEXT).faces[1].reason == "low_quality"
