"""Every operation has an access class, so no operation reaches a gallery unchecked by the policy."""

from __future__ import annotations

from frs.access.classes import ACCESS_CLASSES, OPERATION_CLASSES
from frs.api.operations import GALLERY, OPERATIONS


def test_every_operation_is_classified() -> None:
    missing = [op.name for op in OPERATIONS if op.name not in OPERATION_CLASSES]
    assert not missing, f"classify these operations in frs/access/classes.py: {missing}"


def test_every_operation_on_a_gallery_needs_read_write_or_delete() -> None:
    for op in OPERATIONS:
        takes_gallery = any(p.name == GALLERY.name for p in op.params)
        access = OPERATION_CLASSES[op.name]
        if takes_gallery:
            assert access in ACCESS_CLASSES, op.name
        else:
            assert access is None, f"{op.name} touches no gallery, so it needs no class"


def test_the_classes_follow_the_issue() -> None:
    assert {n for n, c in OPERATION_CLASSES.items() if c == "read"} >= {"identify", "verify", "get", "list"}
    assert OPERATION_CLASSES["add"] == "write"
    assert OPERATION_CLASSES["delete"] == OPERATION_CLASSES["delete_face"] == "delete"
