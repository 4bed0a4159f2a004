"""Setting one manifest member in place: every other byte stays, the file is replaced atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frs.config import REPO_ROOT
from frs.errors import FRSError
from frs.packs.manifest_edit import set_member, with_member

HAND_WRITTEN = (
    '{\n  "name": "x",\n  "sizes": [640, 640],\n  "calibration": {"old": true},\n  "tail": "}"\n}\n'
)


def test_a_new_member_goes_last_and_the_rest_keeps_its_text() -> None:
    text = '{\n  "name": "x",\n  "sizes": [640, 640]\n}\n'
    assert with_member(text, "calibration", '{\n  "v": 1\n}') == (
        '{\n  "name": "x",\n  "sizes": [640, 640],\n  "calibration": {\n    "v": 1\n  }\n}\n'
    )


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        (HAND_WRITTEN, '{\n  "name": "x",\n  "sizes": [640, 640],\n  "tail": "}"'),  # in the middle
        ('{"calibration": 1, "b": [1, 2]}', '{"b": [1, 2]'),  # first
        ('{"calibration": 1}', "{"),  # the only member
    ],
)
def test_an_existing_member_is_replaced_wherever_it_was(text: str, rest: str) -> None:
    updated = with_member(text, "calibration", "2")
    assert updated.startswith(rest)
    assert json.loads(updated) == {
        **{k: v for k, v in json.loads(text).items() if k != "calibration"},
        "calibration": 2,
    }


def test_set_member_on_a_real_manifest_changes_only_that_member(tmp_path: Path) -> None:
    path = tmp_path / "open.json"
    original = (REPO_ROOT / "models" / "open.json").read_text()
    path.write_text(original)
    set_member(path, "calibration", {"version": 1, "x": [1, 2]})
    before, after = json.loads(original), json.loads(path.read_text())
    assert after == {**before, "calibration": {"version": 1, "x": [1, 2]}}
    # The detector and recognizer sections are byte for byte what they were.
    head = original[: original.index('  "calibration"')] if '"calibration"' in original else original
    assert path.read_text().startswith(head.rstrip().rstrip(","))
    assert [p.name for p in tmp_path.iterdir()] == ["open.json"]  # no temporary file left behind


def test_a_file_that_is_not_a_json_object_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("[1, 2]")
    with pytest.raises(FRSError) as caught:
        set_member(path, "calibration", {})
    assert caught.value.code == "bad_request" and path.read_text() == "[1, 2]"
