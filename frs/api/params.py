"""Typed reads of request fields with ``bad_request`` errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frs.errors import FRSError


def optional_str(source: Mapping[str, Any], field: str) -> str | None:
    value = source.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise FRSError("bad_request", f"'{field}' must be a string")
    return value


def optional_int(source: Mapping[str, Any], field: str) -> int | None:
    value = source.get(field)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)  # query strings carry numbers as text
    if isinstance(value, bool) or not isinstance(value, int):
        raise FRSError("bad_request", f"'{field}' must be an integer")
    return value


def optional_float(source: Mapping[str, Any], field: str) -> float | None:
    value = source.get(field)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError as exc:
            raise FRSError("bad_request", f"'{field}' must be a number") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FRSError("bad_request", f"'{field}' must be a number")
    return float(value)


def optional_bool(source: Mapping[str, Any], field: str) -> bool | None:
    value = source.get(field)
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    if not isinstance(value, bool):
        raise FRSError("bad_request", f"'{field}' must be true or false")
    return value


def optional_object(source: Mapping[str, Any], field: str) -> dict[str, Any] | None:
    value = source.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FRSError("bad_request", f"'{field}' must be a JSON object")
    return value


def optional_str_list(source: Mapping[str, Any], field: str) -> list[str] | None:
    value = source.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FRSError("bad_request", f"'{field}' must be a JSON array of strings")
    return list(value)
