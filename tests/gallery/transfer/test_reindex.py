"""``frs gallery reindex``: re-enrol a gallery of the embedded pack with the open pack, from real photos held
in moto S3, reporting the faces it could not re-enrol; idempotent; never mixing packs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from frs.cli.main import main
from frs.config import Settings
from frs.gallery.transfer.checksum import gallery_checksum
from frs.gallery.transfer.copy import copy_gallery
from frs.gallery.transfer.reindex import OUTCOMES, reindex_gallery
from frs.pipeline.analyzer import load_analyzer
from frs.pipeline.quality import parse_filter_level
from frs.service import FaceService
from harness.s3 import S3Endpoint
from tests.gallery.transfer.conftest import GALLERY, Locate, open_at

EXPIRES = "2099-01-01T00:00:00Z"


@dataclasses.dataclass(frozen=True)
class Source:
    settings: Settings  # the embedded-pack source gallery (a directory), with S3 reachable
    bucket: str  # holds the photos
    face_ids: dict[str, str]  # what each enrolled face stands for -> its face_id


@pytest.fixture
def source(
    settings: Settings, s3_env: S3Endpoint, testdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Source:
    """Obama (two photos) and Macron enrolled from s3:// sources; Macron also once without a source; Biden
    from a photo then deleted; a face whose source is a text object."""
    s3 = s3_env.client()
    bucket = s3_env.create_bucket()
    for photo in ("fr_obama_1.jpg", "fr_obama_2.jpg", "person_a_2.jpg", "fr_biden.jpg"):
        s3.put_object(Bucket=bucket, Key=f"photos/{photo}", Body=(testdata / photo).read_bytes())
    s3.put_object(Bucket=bucket, Key="photos/notes.txt", Body=b"not a photo")
    monkeypatch.setenv("FRS_CACHE_DIR", str(tmp_path / "cache"))
    located = dataclasses.replace(
        settings,
        gallery_uri=str(tmp_path / "source"),
        cache_dir=tmp_path / "cache",
        sync_ttl=0.0,
        aws_endpoint_url=s3_env.url,
        aws_region="us-east-1",
    )
    service = FaceService(located)

    def add(name: str, photo: str, source: str | None, **extra: Any) -> str:
        answer = service.add(GALLERY, name, (testdata / photo).read_bytes(), source=source, **extra)
        return str(answer["face_id"])

    face_ids = {
        "obama 1": add("obama", "fr_obama_1.jpg", f"s3://{bucket}/photos/fr_obama_1.jpg", metadata={"r": 1}),
        "obama 2": add("obama", "fr_obama_2.jpg", f"s3://{bucket}/photos/fr_obama_2.jpg"),
        "macron": add("macron", "person_a_2.jpg", f"s3://{bucket}/photos/person_a_2.jpg", expires_at=EXPIRES),
        "macron unsourced": add("macron", "person_a_1.jpg", None),
        "biden": add("biden", "fr_biden.jpg", f"s3://{bucket}/photos/fr_biden.jpg"),
        "text": add("text", "person_b_1.jpg", f"s3://{bucket}/photos/notes.txt"),
    }
    s3.delete_object(Bucket=bucket, Key="photos/fr_biden.jpg")
    return Source(located, bucket, face_ids)


def reindex(
    source: Source, target_uri: str, capsys: pytest.CaptureFixture[str], pack: str = "open"
) -> dict[str, Any]:
    argv = ["gallery", "reindex", "--to-pack", pack, "--to", target_uri, "--gallery", GALLERY]
    code = main([*argv, "--gallery-uri", source.settings.gallery_uri])
    out = capsys.readouterr().out
    assert code == 0, out
    report: dict[str, Any] = json.loads(out)
    return report


def test_reindex_to_the_open_pack_reports_what_it_could_not_re_enrol(
    source: Source,
    open_settings: Settings,
    s3_env: S3Endpoint,
    testdata: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = gallery_checksum(open_at(source.settings))
    target_settings = dataclasses.replace(
        source.settings, pack="open", gallery_uri=f"s3://{s3_env.create_bucket()}/galleries"
    )

    report = reindex(source, target_settings.gallery_uri, capsys)

    assert report["pack"] == "open"
    assert report["counts"] == {
        "reindexed": 3,
        "no_source": 1,
        "photo_gone": 1,
        "unreadable": 1,
        "no_face": 0,
        "low_quality": 0,
    }
    assert set(report["counts"]) == set(OUTCOMES)
    assert (report["identities_added"], report["faces_added"]) == (4, 3)
    refused = {r["face_id"]: r for r in report["not_reindexed"]}
    ids = source.face_ids
    assert set(refused) == {ids["macron unsourced"], ids["biden"], ids["text"]}
    assert refused[ids["macron unsourced"]] == {
        "face_id": ids["macron unsourced"],
        "identity": "macron",
        "source": None,
        "outcome": "no_source",
        "reason": "the face was enrolled without a source",
    }
    gone = refused[ids["biden"]]
    assert (gone["identity"], gone["outcome"]) == ("biden", "photo_gone")
    assert gone["source"] == f"s3://{source.bucket}/photos/fr_biden.jpg" and "not_found" in gone["reason"]
    text = refused[ids["text"]]
    assert (text["identity"], text["outcome"]) == ("text", "unreadable")
    assert text["reason"].startswith("invalid_image")

    target = open_at(target_settings)
    pack = target.pack()
    assert pack is not None and pack.name == "open"
    faces = list(target.iter_faces())
    assert len(faces) == 3 and {f.record.pack for f in faces} == {"open"}
    assert sorted(f.record.source or "" for f in faces) == sorted(
        f"s3://{source.bucket}/photos/{p}" for p in ("fr_obama_1.jpg", "fr_obama_2.jpg", "person_a_2.jpg")
    )
    identities = {i.name: i for i in target.iter_identities()}
    assert set(identities) == {"obama", "macron", "biden", "text"}
    assert identities["obama"].metadata == {"r": 1}
    assert identities["macron"].expires_at == open_at(source.settings).get("macron").expires_at
    assert (identities["macron"].expires_at or "").startswith("2099-01-01T00:00:00")
    assert identities["biden"].face_count == 0

    service = FaceService(dataclasses.replace(target_settings, models_dir=open_settings.models_dir))
    answer = service.identify(GALLERY, (testdata / "fr_obama_3.jpg").read_bytes())
    assert answer["faces"][0]["identity"] == "obama"

    again = reindex(source, target_settings.gallery_uri, capsys)
    assert (again["identities_added"], again["faces_added"]) == (0, 0)
    assert again["counts"] == report["counts"]
    assert open_at(target_settings).face_count() == 3
    assert gallery_checksum(open_at(source.settings)) == before  # the source is only read


def refusal(source: Source, target_uri: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    argv = ["gallery", "reindex", "--to-pack", "open", "--to", target_uri, "--gallery", GALLERY]
    code = main([*argv, "--gallery-uri", source.settings.gallery_uri])
    assert code == 2
    error: dict[str, Any] = json.loads(capsys.readouterr().out)["error"]
    return error


def test_a_target_of_another_pack_is_refused_before_any_write(
    source: Source, testdata: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = dataclasses.replace(source.settings, gallery_uri=str(tmp_path / "other"))
    FaceService(other).add(GALLERY, "someone", (testdata / "person_b_2.jpg").read_bytes())
    before = gallery_checksum(open_at(other))

    error = refusal(source, other.gallery_uri, capsys)

    assert error["code"] == "pack_mismatch" and "'embedded'" in error["message"]
    assert gallery_checksum(open_at(other)) == before


def test_the_target_must_not_be_the_source(source: Source, capsys: pytest.CaptureFixture[str]) -> None:
    before = gallery_checksum(open_at(source.settings))
    assert refusal(source, source.settings.gallery_uri + "/", capsys)["code"] == "bad_request"
    assert gallery_checksum(open_at(source.settings)) == before


def blurred(photo: bytes) -> bytes:
    """The photo at 300 px wide, blurred hard (sigma 12): too soft for the medium quality filter."""
    bgr = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    assert bgr is not None
    bgr = cv2.resize(bgr, (300, round(300 * bgr.shape[0] / bgr.shape[1])), interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode(".png", cv2.GaussianBlur(bgr, (0, 0), 12.0))
    assert ok
    return png.tobytes()


def test_a_face_not_found_again_or_below_the_filter_is_refused(
    source: Source, open_settings: Settings, s3_env: S3Endpoint, testdata: Path, tmp_path: Path
) -> None:
    """Straight through ``reindex_gallery`` with the medium filter: a face whose enrolled box covers no face
    of its photo is ``no_face``, a blurred photo ``low_quality`` with the filter's reasons, and an http
    source that cannot be reached ``unreadable`` (test_fetch.py fetches real ones)."""
    settings = dataclasses.replace(source.settings, gallery_uri=str(tmp_path / "edge"))
    service = FaceService(settings)
    photo = (testdata / "fr_obama_1.jpg").read_bytes()
    found = service.enrolment_face(photo)
    elsewhere = dataclasses.replace(
        found, bbox=(0.0, 0.0, 4.0, 4.0), source=f"s3://{source.bucket}/photos/fr_obama_1.jpg"
    )
    soft = blurred((testdata / "person_b_1.jpg").read_bytes())
    s3_env.client().put_object(Bucket=source.bucket, Key="photos/soft.png", Body=soft)
    service.add(GALLERY, "soft", soft, quality_filter="none", source=f"s3://{source.bucket}/photos/soft.png")
    edge = open_at(settings)
    web = dataclasses.replace(found, source="http://127.0.0.1:1/obama.jpg")  # nothing listens on port 1
    edge.add_faces([("elsewhere", elsewhere, None), ("web", web, None)], pack=service.analyzer.pack)
    target = open_at(dataclasses.replace(settings, gallery_uri=str(tmp_path / "edge-open")))

    report = reindex_gallery(
        edge,
        target,
        load_analyzer(open_settings),
        level=parse_filter_level("medium"),
        settings=settings,
        batch_size=1,
    )

    counts = {outcome: n for outcome, n in report.counts.items() if n}
    assert counts == {"no_face": 1, "low_quality": 1, "unreadable": 1}
    refused = {r.identity: r for r in report.refused}
    assert (
        refused["elsewhere"].outcome == "no_face"
        and "overlaps the enrolled box" in refused["elsewhere"].reason
    )
    assert refused["soft"].outcome == "low_quality" and "LOW_SHARPNESS" in refused["soft"].reason
    assert refused["web"].outcome == "unreadable" and "cannot fetch" in refused["web"].reason
    assert (report.identities_added, report.faces_added, target.face_count()) == (3, 0, 0)


def test_reindex_between_postgresql_databases(
    source: Source,
    locate: Locate,
    open_settings: Settings,
    testdata: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same gallery held in PostgreSQL (copied there), re-enrolled into another PostgreSQL database."""
    held = dataclasses.replace(locate("pgvector"), aws_endpoint_url=source.settings.aws_endpoint_url)
    copy_gallery(open_at(source.settings), open_at(held))
    before = gallery_checksum(open_at(held))
    target = dataclasses.replace(locate("pgvector"), pack="open", models_dir=open_settings.models_dir)
    pg_source = dataclasses.replace(source, settings=held)

    report = reindex(pg_source, target.gallery_uri, capsys)

    assert {k: v for k, v in report["counts"].items() if v} == {
        "reindexed": 3,
        "no_source": 1,
        "photo_gone": 1,
        "unreadable": 1,
    }
    assert (report["identities_added"], report["faces_added"]) == (4, 3)
    reindexed = open_at(target)
    assert reindexed.pack() is not None and {f.record.pack for f in reindexed.iter_faces()} == {"open"}
    answer = FaceService(target).identify(GALLERY, (testdata / "fr_obama_3.jpg").read_bytes())
    assert answer["faces"][0]["identity"] == "obama"
    assert gallery_checksum(open_at(held)) == before  # the source is only read
