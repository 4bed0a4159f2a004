"""Restore: an S3 file gallery to an earlier object version (versioned bucket, moto), any gallery from an
export file."""

from __future__ import annotations

from pathlib import Path

import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.file.transports.s3 import parse_s3_uri
from frs.gallery.transfer.checksum import gallery_checksum
from frs.gallery.transfer.restore import restore_export, restore_version
from frs.gallery.transfer.writer import export_to_path
from frs.packs.info import PackInfo
from harness.s3 import S3Endpoint
from tests.gallery.synthetic import FaceMaker
from tests.gallery.transfer.conftest import GALLERY, Locate, fill, open_at


def _current_version(s3: S3Endpoint, settings: Settings) -> str:
    bucket, prefix = parse_s3_uri(settings.gallery_uri)
    return str(s3.client().head_object(Bucket=bucket, Key=f"{prefix}/{GALLERY}.sqlite")["VersionId"])


def test_an_s3_gallery_goes_back_to_an_earlier_version(
    locate: Locate, s3_env: S3Endpoint, pack: PackInfo, faces: FaceMaker
) -> None:
    settings = locate("sqlite-s3")
    bucket, _ = parse_s3_uri(settings.gallery_uri)
    s3_env.client().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    gallery = open_at(settings)
    fill(gallery, pack, n_faces=40)
    good = gallery_checksum(gallery)
    good_version = _current_version(s3_env, settings)

    victim = next(gallery.iter_identities()).name  # the mistakes made afterwards
    gallery.delete_identity(victim)
    gallery.add_face("Intruder", faces.face("intruder"), pack=pack)
    assert gallery_checksum(gallery) != good

    restore_version(gallery, good_version)
    assert gallery_checksum(gallery) == good
    fresh = open_at(settings, GALLERY)  # what every other reader now sees
    assert gallery_checksum(fresh) == good and victim in {i.name for i in fresh.iter_identities()}
    assert _current_version(s3_env, settings) != good_version  # a new version on top: history kept
    gallery.add_face("After the restore", faces.face("after"), pack=pack)  # writes go on as usual
    assert gallery.face_count() == good.faces + 1

    with pytest.raises(FRSError) as err:
        restore_version(gallery, "no-such-version")
    assert err.value.code == "not_found"


def test_a_version_restore_needs_s3(locate: Locate, pack: PackInfo) -> None:
    for kind in ("sqlite-local", "pgvector"):
        gallery = open_at(locate(kind))
        fill(gallery, pack, n_faces=5)
        with pytest.raises(FRSError) as err:
            restore_version(gallery, "v1")
        assert err.value.code == "bad_request"


def test_restore_from_an_export_gives_back_exactly_its_records(
    kind: str, locate: Locate, pack: PackInfo, faces: FaceMaker, tmp_path: Path
) -> None:
    gallery = open_at(locate(kind))
    fill(gallery, pack, n_faces=60)
    good = gallery_checksum(gallery)
    backup = tmp_path / "backup.gz"
    export_to_path(gallery, backup)

    names = [i.name for i in gallery.iter_identities()]
    gallery.delete_identity(names[0])
    gallery.rename_identity(names[1], "Renamed")
    gallery.add_face("Intruder", faces.face("intruder"), pack=pack)

    report = restore_export(gallery, backup)
    assert report.faces_added == 60
    assert gallery_checksum(gallery) == good
    assert "Intruder" not in {i.name for i in gallery.iter_identities()}
