"""Property-based: whatever a caller sends as a direct event or a name, the answer is well-formed and never
an internal error."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frs.api.app import Application
from frs.api.direct import ACTIONS
from frs.errors import ERROR_STATUS, FRSError
from frs.gallery.validation import validate_identity_name

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
image_refs = st.one_of(
    json_values,
    st.fixed_dictionaries({"base64": st.text(max_size=40)}),
    st.fixed_dictionaries(
        {"base64": st.binary(max_size=60).map(lambda b: __import__("base64").b64encode(b).decode())}
    ),
)
events = st.fixed_dictionaries(
    {"action": st.sampled_from([*ACTIONS, "nope"]) | json_scalars},
    optional={
        "gallery": st.sampled_from(["default", "../x", "", "a" * 100]) | json_scalars,
        "name": st.text(max_size=140) | json_scalars,
        "image": image_refs,
        "image_b": image_refs,
        "top_k": json_scalars,
        "threshold": json_scalars,
        "target_fpir": json_scalars,
        "target_far": json_scalars,
        "quality_filter": st.sampled_from(["none", "low", "medium", "high", "auto"]) | json_scalars,
        "largest": json_scalars,
        "image_base64": st.text(max_size=40) | json_scalars,
        "metadata": json_values,
        "face_id": st.text(max_size=40) | json_scalars,
        "page_size": json_scalars,
        "page_token": st.text(max_size=40) | json_scalars,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=events)
def test_any_direct_event_gets_a_documented_answer(app: Application, event: dict[str, Any]) -> None:
    result = app(event, None)
    assert isinstance(result, dict) and isinstance(result.get("ok"), bool)
    if not result["ok"]:
        error = result["error"]
        assert error["code"] in ERROR_STATUS and error["code"] != "internal_error", error
        assert ERROR_STATUS[error["code"]] < 500 or error["code"] == "storage_unavailable", error
        assert isinstance(error["message"], str) and error["message"]


def _should_accept(name: str) -> bool:
    return (
        1 <= len(name) <= 128
        and "/" not in name
        and not any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in name)
    )


@settings(max_examples=300, deadline=None)
@given(
    name=st.text(max_size=200) | st.sampled_from(["", "a/b", "x" * 129, "tab\there", "Zoë", "李", "' OR 1=1"])
)
def test_name_validation_matches_the_documented_rule(name: str) -> None:
    try:
        accepted = validate_identity_name(name)
    except FRSError as error:
        assert error.code == "bad_request"
        assert not _should_accept(name)
        return
    assert _should_accept(name)
    assert accepted == name  # stored exactly as given
