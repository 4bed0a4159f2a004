"""Validation of names, metadata, page sizes and page tokens (shared by every backend)."""

from __future__ import annotations

import pytest

from frs.errors import FRSError
from frs.gallery import validation
from frs.gallery.paging import decode_page_token, encode_page_token


@pytest.mark.parametrize("name", ["default", "a", "Team_1.v2-prod", "_x", "9" * 64])
def test_valid_gallery_names(name: str) -> None:
    assert validation.validate_gallery_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", ".hidden", "../x", "a/b", "a\\b", "-flag", "x" * 65, "café", "a b", "a\x00", None, 3],
)
def test_invalid_gallery_names(name: object) -> None:
    with pytest.raises(FRSError) as err:
        validation.validate_gallery_name(name)
    assert err.value.code == "bad_request"


@pytest.mark.parametrize(
    "name",
    ["Ada Lovelace", "李小龙", "O'Brien; DROP TABLE identities;--", "x" * 128, "émile", "👩‍🔬", " padded "],
)
def test_valid_identity_names(name: str) -> None:
    assert validation.validate_identity_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "x" * 129, "a/b", "tab\there", "new\nline", "nul\x00", "del\x7f", "sep\u2028", "\ud800", 5]
)
def test_invalid_identity_names(name: object) -> None:
    with pytest.raises(FRSError) as err:
        validation.validate_identity_name(name)
    assert err.value.code == "bad_request"


def test_metadata_must_be_a_small_json_object() -> None:
    assert validation.validate_metadata({"team": "x", "n": [1, 2]}) == {"team": "x", "n": [1, 2]}
    assert len(validation.serialize_metadata({"k": "v" * 4000}).encode()) <= validation.MAX_METADATA_BYTES
    for bad in ([1, 2], "text", {"k": "v" * 4090}, {"k": float("nan")}, {"k": object()}, {1: 2j}):
        with pytest.raises(FRSError) as err:
            validation.serialize_metadata(bad)
        assert err.value.code == "bad_request"


def test_metadata_limit_counts_utf8_bytes() -> None:
    # 1500 three-byte characters: 1500 characters but 4500 bytes.
    with pytest.raises(FRSError):
        validation.serialize_metadata({"k": "€" * 1500})


@pytest.mark.parametrize("size", [0, -1, 1001, 2.5, True, "10", None])
def test_page_size_bounds(size: object) -> None:
    with pytest.raises(FRSError) as err:
        validation.validate_page_size(size)
    assert err.value.code == "bad_request"


def test_page_size_accepts_bounds() -> None:
    assert validation.validate_page_size(1) == 1
    assert validation.validate_page_size(1000) == 1000


def test_face_id_is_a_uuid() -> None:
    assert (
        validation.validate_face_id("A3BB189E-8BF9-3888-9912-ACE4E6543002")
        == "a3bb189e-8bf9-3888-9912-ace4e6543002"
    )
    with pytest.raises(FRSError) as err:
        validation.validate_face_id("1; DROP TABLE faces")
    assert err.value.code == "bad_request"


def test_page_token_round_trip_and_rejection() -> None:
    token = encode_page_token("Zoë", "Z")
    assert decode_page_token(token, "Z") == "Zoë"
    assert decode_page_token(None, None) is None
    for bad in ("!!!", "e30", token + "x" * 2000):
        with pytest.raises(FRSError) as err:
            decode_page_token(bad, "Z")
        assert err.value.code == "bad_request"
    with pytest.raises(FRSError):
        decode_page_token(token, "other-prefix")


@pytest.mark.parametrize("metadata", [{"a": "x\x00y"}, {"k\x00": 1}, {"a": [{"b": "\x00"}]}])
def test_metadata_with_nul_is_refused_on_every_backend(metadata: dict[str, object]) -> None:
    with pytest.raises(FRSError, match="NUL"):
        validation.serialize_metadata(metadata)


def test_escaped_backslash_u0000_text_is_not_nul() -> None:
    assert validation.serialize_metadata({"a": "\\u0000"}) == '{"a":"\\\\u0000"}'
