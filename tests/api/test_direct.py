"""Direct invocations: every action, and the documented error for each kind of bad event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frs.api.app import Application
from tests.access.policies import NO_POLICY
from tests.api.conftest import b64


def call(app: Application, **event: Any) -> dict[str, Any]:
    return app(event, None)


def test_health(app: Application) -> None:
    assert call(app, action="health") == {
        "ok": True,
        "status": "ok",
        "pack": "embedded",
        "dim": 128,
        **NO_POLICY,
    }


def test_detect(app: Application, photo: dict[str, bytes]) -> None:
    result = call(app, action="detect", image=b64(photo["solvay_conference_1927.jpg"]))
    assert result["ok"] is True and len(result["faces"]) == 29


def test_enrol_identify_verify_delete_round_trip(app: Application, photo: dict[str, bytes]) -> None:
    added = call(
        app, action="add", name="Ardern", image=b64(photo["person_b_1.jpg"]), metadata={"site": "HQ"}
    )
    assert added["ok"] and added["identity"] == "Ardern" and added["face_count"] == 1 and added["created"]
    assert call(app, action="add", name="Macron", image=b64(photo["person_a_1.jpg"]))["ok"]

    again = call(app, action="add", name="Ardern", image=b64(photo["person_b_1.jpg"]))
    assert again["created"] is False and again["face_id"] == added["face_id"] and again["face_count"] == 1

    for probe, expected in [
        ("person_b_2.jpg", "Ardern"),
        ("person_a_2.jpg", "Macron"),
        ("impostor_1.jpg", None),
        ("impostor_2.jpg", None),
    ]:
        faces = call(app, action="identify", image=b64(photo[probe]), top_k=2)["faces"]
        assert len(faces) == 1 and faces[0]["identity"] == expected, probe
        assert len(faces[0]["candidates"]) == 2

    verified = call(app, action="verify", name="Ardern", image=b64(photo["person_b_2.jpg"]))
    assert verified["ok"] and verified["match"] is True
    pair = call(
        app, action="verify", image=b64(photo["person_b_1.jpg"]), image_b=b64(photo["impostor_1.jpg"])
    )
    assert pair["ok"] and pair["match"] is False

    got = call(app, action="get", name="Ardern")
    assert got["metadata"] == {"site": "HQ"} and got["faces"][0]["face_id"] == added["face_id"]

    first = call(app, action="list", page_size=1)
    assert [i["identity"] for i in first["identities"]] == ["Ardern"] and first["next_page_token"]
    second = call(app, action="list", page_size=1, page_token=first["next_page_token"])
    assert [i["identity"] for i in second["identities"]] == ["Macron"] and second["next_page_token"] is None

    removed = call(app, action="delete_face", face_id=added["face_id"])
    assert removed == {"ok": True, "face_id": added["face_id"], "identity": "Ardern"}
    assert call(app, action="get", name="Ardern")["face_count"] == 0
    macron = call(app, action="get", name="Macron")["faces"][0]["face_id"]
    deleted = call(app, action="delete", name="Macron")
    assert deleted == {"ok": True, "identity": "Macron", "faces_removed": 1, "face_ids": [macron]}
    faces = call(app, action="identify", image=b64(photo["person_a_2.jpg"]))["faces"]
    assert faces[0]["identity"] is None


def test_identify_on_an_empty_gallery_answers_unknown(app: Application, photo: dict[str, bytes]) -> None:
    result = call(app, action="identify", gallery="empty", image=b64(photo["solvay_conference_1927.jpg"]))
    assert result["ok"] and len(result["faces"]) == 29
    assert all(f["identity"] is None and f["candidates"] == [] for f in result["faces"])


def test_several_faces_need_largest(app: Application, photo: dict[str, bytes]) -> None:
    image = b64(photo["solvay_conference_1927.jpg"])
    refused = call(app, action="add", name="someone", image=image)
    assert refused["ok"] is False and refused["error"]["code"] == "multiple_faces"
    assert refused["error"]["details"]["count"] == 29
    assert call(app, action="add", name="someone", image=image, largest=True)["ok"]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({}, "bad_request"),
        ({"action": "frobnicate"}, "bad_request"),
        ({"action": 7}, "bad_request"),
        ({"action": "detect"}, "bad_request"),
        ({"action": "detect", "image": "not-an-object"}, "bad_request"),
        ({"action": "detect", "image": {"base64": "%%%not base64%%%"}}, "bad_request"),
        ({"action": "detect", "image": {"base64": ""}}, "bad_request"),
        ({"action": "detect", "image": {"url": "http://x"}}, "bad_request"),
        ({"action": "detect", "image": {"s3": "bucket/key"}}, "bad_request"),
        ({"action": "add", "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "add", "name": 5, "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "identify", "top_k": "many", "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "identify", "top_k": 101, "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "identify", "target_fpir": 0, "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "identify", "target_fpir": "1%", "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "identify", "quality_filter": "strict", "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "add", "name": "a", "quality_filter": 2, "image": {"base64": "aGVsbG8="}}, "bad_request"),
        (
            {"action": "verify", "target_far": 1.5, "image": {"base64": "aGVsbG8="}, "name": "a"},
            "bad_request",
        ),
        ({"action": "verify", "image": {"base64": "aGVsbG8="}}, "bad_request"),
        ({"action": "delete"}, "bad_request"),
        ({"action": "get", "name": "nobody"}, "not_found"),
        ({"action": "delete", "name": "nobody"}, "not_found"),
        ({"action": "delete_face", "face_id": "00000000-0000-0000-0000-000000000000"}, "not_found"),
        ({"action": "list", "page_size": 0}, "bad_request"),
        ({"action": "list", "gallery": "../x"}, "bad_request"),
        ({"action": "detect", "image": {"base64": "R0lGODlhAQABAAAAACw="}}, "unsupported_media_type"),
    ],
)
def test_bad_events(app: Application, event: dict[str, Any], code: str) -> None:
    result = app(event, None)
    assert result["ok"] is False
    assert result["error"]["code"] == code
    assert isinstance(result["error"]["message"], str) and result["error"]["message"]


def test_non_object_event(app: Application) -> None:
    assert app(["detect"], None)["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    ("name", "photo_name", "extra", "code"),
    [
        ("x" * 10_000, "person_b_1.jpg", {}, "bad_request"),
        ("bad\x00name", "person_b_1.jpg", {}, "bad_request"),
        ("a/b", "person_b_1.jpg", {}, "bad_request"),
        ("ok", "person_b_1.jpg", {"metadata": {"blob": "x" * 5000}}, "bad_request"),
        ("ok", "person_b_1.jpg", {"metadata": ["not", "an", "object"]}, "bad_request"),
        ("ok", "solvay_conference_1927.jpg", {}, "multiple_faces"),
    ],
)
def test_failed_writes_leave_the_gallery_unchanged(
    app: Application, photo: dict[str, bytes], name: str, photo_name: str, extra: dict[str, Any], code: str
) -> None:
    assert call(app, action="add", name="Existing", image=b64(photo["person_a_1.jpg"]))["ok"]
    gallery_file = Path(app.service.settings.gallery_uri) / "default.sqlite"
    before = gallery_file.read_bytes()
    result = call(app, action="add", name=name, image=b64(photo[photo_name]), **extra)
    assert result["ok"] is False and result["error"]["code"] == code
    assert gallery_file.read_bytes() == before


def test_sql_looking_and_unicode_names_are_stored_literally(
    app: Application, photo: dict[str, bytes]
) -> None:
    for name in ["Robert'); DROP TABLE identities;--", "Zoë Ñandú 李小龍"]:
        assert call(app, action="add", name=name, image=b64(photo["person_b_1.jpg"]))["ok"]
        assert call(app, action="get", name=name)["identity"] == name
    assert len(call(app, action="list")["identities"]) == 2


def test_search_face_and_identity_edits_as_direct_events(app: Application, photo: dict[str, bytes]) -> None:
    ardern = call(app, action="add", name="Ardern", image=b64(photo["person_b_1.jpg"]), source="s3://b/k.jpg")
    call(app, action="add", name="Ardern2", image=b64(photo["person_b_2.jpg"]), metadata={"a": 1})
    call(app, action="add", name="Macron", image=b64(photo["person_a_1.jpg"]))
    assert call(app, action="get", name="Ardern")["faces"][0]["source"] == "s3://b/k.jpg"

    found = call(app, action="search_face", face_id=ardern["face_id"], top_k=2)
    assert found["ok"] and found["enrolled_as"] == "Ardern"
    assert found["candidates"][0]["identity"] == "Ardern2"  # its own identity left out
    assert "Ardern" not in [c["identity"] for c in found["candidates"]]
    assert found["identity"] == "Ardern2" and found["reason"] is None

    merged = call(app, action="merge", name="Ardern", **{"from": ["Ardern2"]})
    assert merged["faces_moved"] == 1 and merged["metadata"] == {"a": 1} and merged["face_count"] == 2
    renamed = call(app, action="rename", name="Ardern", new_name="Jacinda Ardern")
    assert renamed["identity"] == "Jacinda Ardern" and renamed["renamed_from"] == "Ardern"
    clash = call(app, action="rename", name="Macron", new_name="Jacinda Ardern")
    assert clash["ok"] is False and clash["error"]["code"] == "identity_exists"
    moved = call(app, action="move_face", face_id=ardern["face_id"], name="Macron")
    assert (moved["identity"], moved["previous_identity"]) == ("Macron", "Jacinda Ardern")
    updated = call(app, action="update_metadata", name="Macron", metadata={"b": 2}, mode="merge")
    assert updated["metadata"] == {"b": 2}
    replaced = call(app, action="update_metadata", name="Macron", metadata={"c": 3}, mode="replace")
    assert replaced["metadata"] == {"c": 3}
    unknown = call(app, action="search_face", face_id="00000000-0000-4000-8000-000000000000")
    assert unknown["error"]["code"] == "not_found"
