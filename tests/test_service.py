"""FaceService decisions on real photos: the operating point a gallery's size implies (checked against values
computed by hand from a hand-made calibration record), what overrides it, and the quality filter on add and
identify. Error codes for bad options are checked through the direct and HTTP adapters in tests/api."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import clear_gallery_cache
from frs.service import FaceService
from tests.support.packs import embedded_copy

# The hand record: 1% of impostor pairs score >= 0.3, 10% >= 0.2, half >= 0.0; above 0.3 an exponential tail
# of scale 0.05, so FMR(t) = 0.01 exp(-(t - 0.3) / 0.05) for t >= 0.3 and log-linear between the quantiles.
HAND_RECORD: dict[str, Any] = {
    "version": 1,
    "pack": "handcal",
    "dataset": "hand",
    "identities": 10,
    "faces": 10,
    "groups": 1,
    "impostor_pairs": 45,
    "impostor_mean": 0.0,
    "impostor_std": 0.1,
    "quantiles": [[0.5, 0.0], [0.1, 0.2], [0.01, 0.3]],
    "tail": {"threshold": 0.3, "rate": 0.01, "pairs": 5, "shape": 0.0, "scale": 0.05},
    "genuine": None,
}


def hand_threshold(target_fpir: float, faces: int) -> float:
    """The threshold the hand record gives for ``faces`` enrolled faces, worked out without FRS's code."""
    fmr = 1 - (1 - target_fpir) ** (1 / faces)  # per comparison, so that 1 - (1 - fmr) ** N = target
    if fmr <= 0.01:  # in the exponential tail
        return 0.3 + 0.05 * math.log(0.01 / fmr)
    # between the quantiles (0.1, 0.2) and (0.01, 0.3), log-linear in the rate
    return 0.2 + 0.1 * math.log10(0.1 / fmr)


@pytest.fixture
def hand(local_settings: Settings, tmp_path: Path) -> Iterator[FaceService]:
    yield FaceService(embedded_copy(local_settings, tmp_path / "models", "handcal", HAND_RECORD))
    clear_gallery_cache()


@pytest.fixture
def photos(testdata: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in testdata.iterdir() if p.suffix == ".jpg"}


def _decode(photo: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _blurred(photo: bytes) -> bytes:
    """The photo at 300 px wide (a ~120 px face) blurred with sigma 8: sharpness between the low (0.2) and
    the medium (0.3) levels' floors."""
    bgr = _decode(photo)
    bgr = cv2.resize(bgr, (300, round(300 * bgr.shape[0] / bgr.shape[1])), interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode(".png", cv2.GaussianBlur(bgr, (0, 0), 8.0))
    assert ok
    return png.tobytes()


def test_identify_gets_the_threshold_the_record_implies_for_its_face_count(
    hand: FaceService, photos: dict[str, bytes]
) -> None:
    probe = photos["person_b_2.jpg"]
    empty = hand.identify("g", probe)
    assert empty["threshold"] == pytest.approx(0.3, abs=1e-4)  # an empty gallery counts as one face
    assert empty["operating_point"] == {
        "basis": "target_fpir",
        "source": "calibrated",
        "target_fpir": 0.01,
        "gallery_size": 0,
        "false_match_rate": 0.01,
        "expected_fpir": 0.0,
        "extrapolated": False,
        "measured_gallery_size": 1,  # the hand record measured rates down to 1%: one face at FPIR 1%
        "quality_filter": "none",
    }
    assert empty["faces"][0]["reason"] == "empty_gallery" and empty["faces"][0]["candidates"] == []

    for faces, (name, photo) in enumerate(
        [("Ardern", "person_b_1.jpg"), ("Macron", "person_a_1.jpg"), ("Macron", "person_a_2.jpg")], start=1
    ):
        hand.add("g", name, photos[photo])
        answer = hand.identify("g", probe)
        assert answer["operating_point"]["gallery_size"] == faces  # faces, not identities (3 faces, 2 people)
        assert answer["threshold"] == pytest.approx(
            hand_threshold(0.01, faces), abs=1e-4
        )  # 0.3, 0.3345, 0.3548
        assert answer["operating_point"]["expected_fpir"] == pytest.approx(0.01, rel=1e-3)
        assert answer["operating_point"]["extrapolated"] is (faces > 1)  # past the measured rates
        assert answer["faces"][0]["identity"] == "Ardern" and answer["faces"][0]["reason"] is None

    looser = hand.identify("g", probe, target_fpir=0.05)  # an FMR above the tail: between two quantiles
    assert looser["threshold"] == pytest.approx(hand_threshold(0.05, 3), abs=1e-4)  # 0.2426
    assert looser["operating_point"]["target_fpir"] == 0.05


def test_an_explicit_threshold_overrides_the_target_and_still_says_what_it_means(
    hand: FaceService, photos: dict[str, bytes]
) -> None:
    hand.add("g", "Ardern", photos["person_b_1.jpg"])
    strict = hand.identify("g", photos["person_b_2.jpg"], threshold=0.99, target_fpir=0.2)
    assert strict["threshold"] == 0.99
    point = strict["operating_point"]
    assert (point["basis"], point["source"], point["target_fpir"]) == ("threshold", "explicit", None)
    assert point["false_match_rate"] == pytest.approx(0.01 * math.exp(-(0.99 - 0.3) / 0.05), rel=1e-3)
    face = strict["faces"][0]
    assert face["identity"] is None and face["reason"] == "below_threshold"
    assert face["candidates"][0]["identity"] == "Ardern" and face["similarity"] < 0.99

    configured = FaceService(dataclasses.replace(hand.settings, match_threshold=0.5))
    answer = configured.identify("g", photos["person_b_2.jpg"])
    assert answer["threshold"] == 0.5 and answer["operating_point"]["source"] == "configured"
    assert configured.identify("g", photos["person_b_2.jpg"], threshold=0.1)["threshold"] == 0.1


def test_verify_uses_the_one_to_one_point(hand: FaceService, photos: dict[str, bytes]) -> None:
    same = hand.verify_images(photos["person_b_1.jpg"], photos["person_b_2.jpg"], target_far=1e-3)
    # FAR 1e-3 is in the tail: 0.3 + 0.05 ln(10)
    assert same["threshold"] == pytest.approx(0.3 + 0.05 * math.log(10), abs=1e-4)
    assert same["operating_point"] == {
        "basis": "target_far",
        "source": "calibrated",
        "target_far": 0.001,
        "false_match_rate": 0.001,
    }
    assert same["match"] is True
    assert (
        hand.verify_images(photos["person_b_1.jpg"], photos["person_b_2.jpg"], threshold=0.2)["threshold"]
        == 0.2
    )


def test_a_pack_without_a_calibration_uses_its_fixed_threshold_and_says_so(
    local_settings: Settings, tmp_path: Path, photos: dict[str, bytes]
) -> None:
    service = FaceService(embedded_copy(local_settings, tmp_path / "models", "nocal", None))
    answer = service.identify("g", photos["person_b_2.jpg"], target_fpir=0.2)
    assert answer["threshold"] == 0.363
    assert answer["operating_point"]["source"] == "pack_default"
    assert answer["operating_point"]["false_match_rate"] is None
    verdict = service.verify_images(photos["person_b_1.jpg"], photos["person_b_2.jpg"])
    assert verdict["threshold"] == 0.363 and verdict["operating_point"]["source"] == "pack_default"
    clear_gallery_cache()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target_fpir": 0}, "target_fpir"),
        ({"target_fpir": 1.0}, "target_fpir"),
        ({"target_fpir": float("nan")}, "target_fpir"),
        ({"target_fpir": True}, "target_fpir"),
        ({"quality_filter": "strict"}, "quality_filter"),
        ({"quality_filter": 3}, "quality_filter"),
        ({"threshold": 1.5}, "threshold"),
        ({"top_k": 101}, "top_k"),
    ],
)
def test_bad_identify_options_are_bad_requests_before_any_work(
    hand: FaceService, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(FRSError) as caught:
        hand.identify("g", b"not even an image", **options)
    assert caught.value.code == "bad_request" and message in caught.value.message


def test_quality_codes_on_crafted_images_through_detect(
    local_settings: Settings, photos: dict[str, bytes]
) -> None:
    service = FaceService(local_settings)
    original = photos["person_b_1.jpg"]
    bgr = _decode(original)

    def issues(image: np.ndarray | bytes) -> list[str]:
        data = image if isinstance(image, bytes) else cv2.imencode(".png", image)[1].tobytes()
        (face,) = service.detect(data)["faces"]
        assert set(face["quality"]) >= {"score", "face_px", "sharpness", "pose", "brightness", "det_score"}
        return list(face["quality"]["issues"])

    assert issues(original) == []
    assert "LOW_SHARPNESS" in issues(_blurred(original))
    tiny = np.full((200, 200, 3), 128, np.uint8)
    small = cv2.resize(bgr, (60, round(60 * bgr.shape[0] / bgr.shape[1])), interpolation=cv2.INTER_AREA)
    tiny[: small.shape[0], : small.shape[1]] = small  # a ~23 px face
    assert "SMALL_FACE" in issues(tiny)
    assert "LOW_BRIGHTNESS" in issues(np.clip(bgr.astype(np.float32) * 0.05 + 0.5, 0, 255).astype(np.uint8))
    height, width = bgr.shape[:2]
    padded = cv2.copyMakeBorder(bgr, height // 2, height // 2, width // 2, width // 2, cv2.BORDER_CONSTANT)
    turn = cv2.getRotationMatrix2D((padded.shape[1] / 2, padded.shape[0] / 2), 60, 1.0)
    assert "EXTREME_POSE" in issues(cv2.warpAffine(padded, turn, padded.shape[1::-1]))


def test_a_low_quality_face_is_refused_and_the_gallery_stays_byte_for_byte(
    local_settings: Settings, photos: dict[str, bytes]
) -> None:
    service = FaceService(local_settings)
    service.add("g", "Existing", photos["person_a_1.jpg"])
    gallery_file = Path(local_settings.gallery_uri) / "g.sqlite"
    before = gallery_file.read_bytes()
    with pytest.raises(FRSError) as caught:
        service.add("g", "Ardern", _blurred(photos["person_b_1.jpg"]), quality_filter="medium")
    error = caught.value
    assert (error.code, error.status) == ("low_quality", 422)
    assert error.details["reasons"] == ["LOW_SHARPNESS"] and error.details["quality_filter"] == "medium"
    assert 0.2 <= error.details["quality"]["sharpness"] < 0.3
    assert gallery_file.read_bytes() == before
    # The default filter for add (low) lets this one through: it is blurred, not unusable.
    assert service.add("g", "Ardern", _blurred(photos["person_b_1.jpg"]))["created"] is True
    clear_gallery_cache()


def test_a_low_quality_probe_is_not_named_but_its_candidates_are_listed(
    local_settings: Settings, photos: dict[str, bytes]
) -> None:
    service = FaceService(local_settings)
    service.add("g", "Ardern", photos["person_b_1.jpg"])
    blurred = _blurred(photos["person_b_2.jpg"])
    (face,) = service.identify("g", blurred, quality_filter="medium")["faces"]
    assert face["identity"] is None and face["reason"] == "low_quality"
    assert [c["identity"] for c in face["candidates"]] == ["Ardern"]
    assert "LOW_SHARPNESS" in face["quality"]["issues"]
    sharp = service.identify("g", photos["person_b_2.jpg"], quality_filter="medium")
    assert sharp["faces"][0]["identity"] == "Ardern"
    assert sharp["operating_point"]["quality_filter"] == "medium"
    clear_gallery_cache()


def test_add_many_reports_low_quality_per_image_and_enrols_the_rest(
    local_settings: Settings, photos: dict[str, bytes]
) -> None:
    service = FaceService(local_settings)
    items = [("Ardern", photos["person_b_1.jpg"], None), ("Ardern", _blurred(photos["person_b_2.jpg"]), None)]
    good, refused = service.add_many("g", items, quality_filter="medium")
    assert good["created"] is True and good["quality"]["issues"] == []
    assert refused["identity"] == "Ardern" and refused["error"]["code"] == "low_quality"
    assert refused["error"]["details"]["reasons"] == ["LOW_SHARPNESS"]
    assert service.get("g", "Ardern")["face_count"] == 1
    clear_gallery_cache()
