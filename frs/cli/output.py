"""How every CLI command reports results and errors."""

from __future__ import annotations

import json
import sys
from typing import Any

from frs.errors import FRSError


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
