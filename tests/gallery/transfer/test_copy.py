"""Copy between every two backends: interrupted midway and resumed, verified, the source left untouched."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frs import aws
from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.file.transports.s3 import parse_s3_uri
from frs.gallery.transfer.checksum import gallery_checksum
from frs.gallery.transfer.copy import copy_gallery
from frs.gallery.types import Gallery, StoredFace
from frs.packs.info import PackInfo
from tests.gallery.conftest import BACKENDS
from tests.gallery.synthetic import FaceMaker
from tests.gallery.transfer.conftest import GALLERY, N_FACES, Locate, answers, fill, open_at

PAIRS = list(itertools.product(BACKENDS, BACKENDS))


class CrashError(Exception):
    pass


class CrashingSource:
    """The real source gallery, except that streaming its faces fails after ``after`` faces (a crash)."""

    def __init__(self, gallery: Gallery, after: int) -> None:
        self._gallery = gallery
        self._after = after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gallery, name)

    def iter_faces(self) -> Iterator[StoredFace]:
        yield from itertools.islice(self._gallery.iter_faces(), self._after)
        raise CrashError("killed midway")


def stored_bytes(settings: Settings) -> str:
    """A digest of what a file gallery stores (the object or file itself); the checksum for PostgreSQL."""
    uri = settings.gallery_uri
    if uri.startswith("s3://"):
        bucket, prefix = parse_s3_uri(uri)
        body = aws.client("s3", settings).get_object(Bucket=bucket, Key=f"{prefix}/{GALLERY}.sqlite")["Body"]
        return hashlib.sha256(body.read()).hexdigest()
    if uri.startswith("postgresql"):
        return gallery_checksum(open_at(settings)).digest
    return hashlib.sha256((Path(uri) / f"{GALLERY}.sqlite").read_bytes()).hexdigest()


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_copy_killed_midway_resumes_to_a_verified_gallery(
    source_kind: str, target_kind: str, locate: Locate, pack: PackInfo
) -> None:
    source_settings = locate(source_kind)
    source = open_at(source_settings)
    queries = fill(source, pack)
    expected = gallery_checksum(source)
    untouched = stored_bytes(source_settings)
    target = open_at(locate(target_kind))

    with pytest.raises(CrashError):
        copy_gallery(CrashingSource(source, after=120), target, chunk_size=50)
    assert target.face_count() == 100  # two whole chunks landed, the third never did
    assert gallery_checksum(target).identities == expected.identities

    report = copy_gallery(source, target, chunk_size=50)
    assert (report.faces_present, report.faces_added, report.identities_added) == (100, N_FACES - 100, 0)
    assert report.checksum == expected == gallery_checksum(target)
    assert answers(target, queries, pack) == answers(source, queries, pack)
    assert stored_bytes(source_settings) == untouched

    again = copy_gallery(source, target, chunk_size=50)  # nothing left to do
    assert (again.faces_added, again.chunks_written, again.faces_present) == (0, 0, N_FACES)


def test_a_target_with_other_records_fails_verification(
    locate: Locate, pack: PackInfo, faces: FaceMaker
) -> None:
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=30)
    target = open_at(locate("pgvector"))
    target.add_face("Someone else", faces.face("other"), pack=pack)
    with pytest.raises(FRSError) as err:
        copy_gallery(source, target)
    assert err.value.code == "transfer_mismatch"
    assert "31 faces" in err.value.message


def test_a_target_of_another_pack_is_refused_before_any_write(
    kind: str, locate: Locate, pack: PackInfo, faces: FaceMaker
) -> None:
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=30)
    target = open_at(locate(kind))
    target.add_face("Bound", faces.face("b"), pack=PackInfo(name="other-pack", dim=pack.dim))
    before = gallery_checksum(target)
    with pytest.raises(FRSError) as err:
        copy_gallery(source, target)
    assert err.value.code == "pack_mismatch"
    assert gallery_checksum(target) == before


def test_a_copy_keeps_identities_expiry_on_every_backend(
    locate: Locate, pack: PackInfo, faces: FaceMaker
) -> None:
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=10)
    retention: Any = source  # update_metadata also takes expires_at
    retention.update_metadata(
        next(source.iter_identities()).name, None, "merge", expires_at="2999-01-01T00:00:00.000Z"
    )
    expiries = [i.expires_at for i in source.iter_identities()]
    assert "2999-01-01T00:00:00.000Z" in expiries
    for kind in ("pgvector", "sqlite-s3"):
        target = open_at(locate(kind))
        copy_gallery(source, target)
        assert [i.expires_at for i in target.iter_identities()] == expiries, kind
