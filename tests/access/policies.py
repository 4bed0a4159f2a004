"""What /health answers about access when no FRS_ACCESS_POLICY is set (shared by the health tests)."""

from __future__ import annotations

from typing import Any

NO_POLICY: dict[str, Any] = {
    "access": {
        "policy": None,
        "note": "no FRS_ACCESS_POLICY: every authenticated caller may use every gallery",
    }
}
