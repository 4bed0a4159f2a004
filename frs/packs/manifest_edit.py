"""Setting one top-level member of a pack manifest in place, leaving every other byte of the file as it was.

Manifests are written by hand (short lists on one line, a chosen key order), so rewriting the whole file with
``json.dumps`` would reformat what the change is not about. :func:`set_member` removes the member's old text,
if any, and appends the new one as the last member, then replaces the file atomically (a temporary file in
the same folder and ``os.replace``), so a reader sees the old manifest or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from frs.errors import FRSError

_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in _SPACE:
        index += 1
    return index


def _top_level_members(text: str) -> list[tuple[str, int, int]]:
    """(key, start of the key, end of the value) of each member of the top-level object, in file order."""
    index = _skip_space(text, 0)
    if index >= len(text) or text[index] != "{":
        raise ValueError("the manifest is not a JSON object")
    members: list[tuple[str, int, int]] = []
    index = _skip_space(text, index + 1)
    while index < len(text) and text[index] != "}":
        key, after_key = _DECODER.raw_decode(text, index)
        colon = _skip_space(text, after_key)
        if not isinstance(key, str) or text[colon] != ":":
            raise ValueError("malformed member")
        _, end = _DECODER.raw_decode(text, _skip_space(text, colon + 1))
        members.append((key, index, end))
        index = _skip_space(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip_space(text, index + 1)
    return members


def member_text(key: str, value_text: str, indent: str = "  ") -> str:
    """``"key": value`` with the value's continuation lines indented one level, as a member of the object."""
    return f"{indent}{json.dumps(key)}: " + value_text.replace("\n", "\n" + indent)


def with_member(text: str, key: str, value_text: str) -> str:
    """``text`` (a JSON object) with top-level member ``key`` set to ``value_text`` (JSON), last."""
    members = _top_level_members(text)
    for position, (name, start, end) in enumerate(members):
        if name != key:
            continue
        # Cut the member with one separator: the one before it, or after it when it is the first member.
        if position > 0:
            text = text[: members[position - 1][2]] + text[end:]
        elif len(members) > 1:
            text = text[:start] + text[members[1][1] :]
        else:
            text = text[:start] + text[end:]
        break
    body = text.rstrip(_SPACE)
    if not body.endswith("}"):
        raise ValueError("the manifest does not end with '}'")
    body = body[:-1].rstrip(_SPACE)
    separator = "" if body.endswith("{") else ","
    return f"{body}{separator}\n{member_text(key, value_text)}\n}}\n"


def set_member(path: Path, key: str, value: Any, value_text: str | None = None) -> None:
    """Set top-level ``key`` of the JSON object in ``path`` to ``value`` (written as ``value_text`` if given),
    atomically; every other member keeps its text. The result is checked to parse back to the same data."""
    try:
        original = path.read_text(encoding="utf-8")
        before = json.loads(original)
        updated = with_member(
            original, key, value_text if value_text is not None else json.dumps(value, indent=2)
        )
        after = json.loads(updated)
    except (OSError, ValueError) as exc:
        raise FRSError("bad_request", f"cannot update {path}: {exc}") from exc
    expected = {k: v for k, v in before.items() if k != key} | {key: json.loads(json.dumps(value))}
    if after != expected:
        raise FRSError("internal_error", f"updating {path} would change other members; nothing written")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(updated)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise FRSError("bad_request", f"cannot write {path}: {exc.strerror}") from exc
