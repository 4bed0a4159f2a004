"""How every CLI command reports results and errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from frs.errors import FRSError

_ARGPARSE_TYPES: dict[str, Any] = {"integer": int, "number": float, "string": str}


def emit(result: Any) -> None:
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def emit_error(error: FRSError) -> int:
    emit(error.to_dict())
    print(f"error: {error.code}: {error.message}", file=sys.stderr)
    return 2 if error.status < 500 else 1


def read_image(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise FRSError("bad_request", f"cannot read image {path!r}: {exc.strerror}") from exc


def add_option(parser: argparse._ActionsContainer, operation: str, name: str) -> None:
    """``--name`` for parameter ``name`` of API ``operation``, with its declared type, default and meaning (so
    the CLI says what the API says)."""
    from frs.api.operations import BY_NAME

    param = next(p for p in BY_NAME[operation].params if p.name == name)
    default = param.documented_default()
    help_text = param.description + (f" (default: {default})" if default else "")
    kwargs: dict[str, Any] = {
        "type": _ARGPARSE_TYPES[param.type],
        "default": param.default,
        "help": help_text,
    }
    if "enum" in param.schema:
        kwargs["choices"] = list(param.schema["enum"])
    parser.add_argument("--" + param.name.replace("_", "-"), dest=param.name, **kwargs)
