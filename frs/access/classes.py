"""Every API operation's access class: what a policy rule must grant for a caller to run it on a gallery.

``read``: answers from a gallery's biometric data (identify, verify, get, list, search, export);
``write``: adds or edits it; ``delete``: erases it. ``None``: the operation touches no gallery (health,
detect), so any authenticated caller may run it. The table is keyed by operation name and a test checks that
every operation of :mod:`frs.api.operations` is in it, so a new operation cannot slip through unclassified.
"""

from __future__ import annotations

from typing import Literal

AccessClass = Literal["read", "write", "delete"]
ACCESS_CLASSES: tuple[AccessClass, ...] = ("read", "write", "delete")

OPERATION_CLASSES: dict[str, AccessClass | None] = {
    "health": None,
    "detect": None,
    "add": "write",
    "identify": "read",
    "verify": "read",
    "get": "read",
    "list": "read",
    "delete": "delete",
    "delete_face": "delete",
    # Issue 21's operations, classified before they land (a missing entry fails tests/access/test_classes.py).
    "search_face": "read",
    "rename": "write",
    "merge": "write",
    "move_face": "write",
    "update_metadata": "write",
    # Retention and subject access.
    "update": "write",
    "purge": "delete",
    "export_identity": "read",
}


#: The CLI's whole-gallery commands (no API operation: they run with the storage's own credentials),
#: classified so their audit records say what they did to the gallery they name. A copy or reindex reads
#: ``--gallery`` at its source and writes it elsewhere; a restore replaces the gallery's records, so it can
#: erase.
CLI_OPERATION_CLASSES: dict[str, AccessClass] = {
    "gallery_export": "read",
    "gallery_import": "write",
    "gallery_copy": "read",
    "gallery_reindex": "read",
    "gallery_restore": "delete",
}


def access_class(operation: str) -> AccessClass | None:
    """The class of ``operation``; KeyError for an operation nobody classified (a bug, caught by a test)."""
    if operation in CLI_OPERATION_CLASSES:
        return CLI_OPERATION_CLASSES[operation]
    return OPERATION_CLASSES[operation]
