"""Export -> import on every backend: identical answers, idempotent, refusals that write nothing."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import is_postgres_uri
from frs.gallery.pgvector.connection import Database
from frs.gallery.pgvector.store import PgVectorGallery
from frs.gallery.transfer.checksum import gallery_checksum
from frs.gallery.transfer.importer import import_export
from frs.gallery.transfer.reader import ExportFile
from frs.gallery.transfer.writer import export_to_path
from frs.gallery.types import Gallery
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker
from tests.gallery.transfer.conftest import GALLERY, N_FACES, Locate, answers, fill, open_at


def _lines(path: Path) -> list[bytes]:
    return gzip.decompress(path.read_bytes()).splitlines(keepends=True)


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(gzip.compress(b"".join(lines)))
    return path


def test_round_trip_gives_identical_answers_and_a_second_import_adds_nothing(
    kind: str, locate: Locate, pack: PackInfo, tmp_path: Path
) -> None:
    source = open_at(locate(kind))
    queries = fill(source, pack)
    before = gallery_checksum(source)
    export = tmp_path / "people.frs.jsonl.gz"
    summary = export_to_path(source, export)
    assert (summary.faces, summary.identities) == (N_FACES, before.identities)
    assert gallery_checksum(source) == before  # exporting writes nothing

    target = open_at(locate(kind))
    first = import_export(target, export)
    assert (first.identities_added, first.faces_added, first.faces_skipped) == (before.identities, N_FACES, 0)
    assert answers(target, queries, pack) == answers(source, queries, pack)
    assert gallery_checksum(target) == before
    name = next(i.name for i in source.iter_identities() if i.metadata)
    assert dataclasses.replace(target.get(name), faces=()) == dataclasses.replace(source.get(name), faces=())
    assert sorted(target.get(name).faces, key=lambda f: f.face_id) == sorted(
        source.get(name).faces, key=lambda f: f.face_id
    )

    second = import_export(target, export)
    assert (second.identities_added, second.faces_added, second.faces_skipped) == (0, 0, N_FACES)
    assert gallery_checksum(target) == before


def test_the_file_is_the_documented_format(locate: Locate, pack: PackInfo, tmp_path: Path) -> None:
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=20)
    path = tmp_path / "x.gz"
    export_to_path(source, path)
    lines = [json.loads(line) for line in _lines(path)]
    header, trailer = lines[0], lines[-1]
    assert header["format"] == "frs-gallery-export" and header["version"] == 1
    assert (header["pack"], header["dim"], header["gallery"]) == (pack.name, pack.dim, "people")
    kinds = [line["type"] for line in lines[1:-1]]
    assert kinds == sorted(kinds, key=lambda k: k != "identity") and kinds.count("face") == 20
    faces = [line for line in lines if line.get("type") == "face"]
    assert [f["face_id"] for f in faces] == sorted(f["face_id"] for f in faces)
    stored = source.face(faces[0]["face_id"])
    vector = np.frombuffer(base64.b64decode(faces[0]["embedding"]), dtype="<f4")
    assert np.array_equal(vector, stored.embedding)
    assert faces[0]["sha256"] == stored.record.image_sha256
    assert trailer == {
        "type": "end",
        "identities": kinds.count("identity"),
        "faces": 20,
        "sha256": trailer["sha256"],
    }
    assert hashlib.sha256(b"".join(_lines(path)[:-1])).hexdigest() == trailer["sha256"]


def _damaged(good: Path, how: str) -> Path:
    """A copy of the export ``good`` damaged in one way (after the first face; some at the very end)."""
    lines = _lines(good)
    raw = gzip.decompress(good.read_bytes())
    bad = good.with_name(f"bad-{how}.gz")
    if how == "truncated-gzip":
        whole = good.read_bytes()
        bad.write_bytes(whole[: len(whole) * 2 // 3])
        return bad
    if how == "truncated-lines":  # a clean gzip that stops mid-file: no trailer
        bad.write_bytes(gzip.compress(raw[: len(raw) * 2 // 3]))
        return bad
    if how == "no-trailer":
        return _write(bad, lines[:-1])
    if how == "garbage-line":
        return _write(bad, [*lines[:-3], b"{not json\n", *lines[-2:]])
    if how == "bad-digest":  # one face's score edited, the line still valid
        record = json.loads(lines[-2])
        record["det_score"] = 0.123
        edited = json.dumps(record, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        return _write(bad, [*lines[:-2], edited, lines[-1]])
    if how == "bad-count":
        trailer = json.loads(lines[-1])
        trailer["faces"] += 1
        return _write(bad, [*lines[:-1], json.dumps(trailer).encode() + b"\n"])
    if how == "bad-embedding":  # the last face's vector is not unit-length: caught although it comes last
        record = json.loads(lines[-2])
        vector = np.frombuffer(base64.b64decode(record["embedding"]), dtype="<f4") * 2
        record["embedding"] = base64.b64encode(vector.astype("<f4").tobytes()).decode()
        edited = json.dumps(record, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        return _write(bad, [*lines[:-2], edited, lines[-1]])
    if how == "orphan-face":  # a face of an identity the file does not declare
        record = json.loads(lines[-2])
        record["identity"] = "nobody"
        edited = json.dumps(record, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        return _write(bad, [*lines[:-2], edited, lines[-1]])
    raise AssertionError(how)


DAMAGES = [
    "truncated-gzip",
    "truncated-lines",
    "no-trailer",
    "garbage-line",
    "bad-digest",
    "bad-count",
    "bad-embedding",
    "orphan-face",
]


def test_a_bad_file_is_refused_and_the_target_is_untouched(
    kind: str, locate: Locate, pack: PackInfo, faces: FaceMaker, tmp_path: Path
) -> None:
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=40)
    good = tmp_path / "good.gz"
    export_to_path(source, good)
    target = open_at(locate(kind))
    target.add_face("Already here", faces.face("kept"), pack=pack, metadata={"keep": True})
    before = gallery_checksum(target)
    for how in DAMAGES:
        with pytest.raises(FRSError) as err:
            import_export(target, _damaged(good, how))
        assert err.value.code == "invalid_export", (how, err.value)
        assert gallery_checksum(target) == before, how
    assert import_export(target, good).faces_added == 40  # the good file still imports


def test_another_packs_file_is_refused(
    kind: str, locate: Locate, pack: PackInfo, faces: FaceMaker, tmp_path: Path
) -> None:
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=30)
    export = tmp_path / "other.gz"
    export_to_path(source, export)
    target = open_at(locate(kind))
    other = PackInfo(name="other-pack", dim=pack.dim)
    target.add_face("Bound to another pack", faces.face("x"), pack=other)
    before = gallery_checksum(target)
    with pytest.raises(FRSError) as err:
        import_export(target, export)
    assert err.value.code == "pack_mismatch"
    assert gallery_checksum(target) == before and target.pack() == other


def test_a_file_changed_between_check_and_write_writes_nothing(
    locate: Locate, pack: PackInfo, faces: FaceMaker, tmp_path: Path
) -> None:
    """Pass 2 re-checks every line: a file swapped after the check fails the generator; no write."""
    source = open_at(locate("sqlite-local"))
    fill(source, pack, n_faces=30)
    good = tmp_path / "good.gz"
    export_to_path(source, good)
    export = ExportFile(good)
    summary = export.validate()
    target = open_at(locate("sqlite-local"))
    target.add_face("Already here", faces.face("kept"), pack=pack)
    before = gallery_checksum(target)
    _damaged(good, "bad-digest").replace(good)
    with pytest.raises(FRSError) as err:
        target.import_records(lambda: export.records(summary), pack=pack)
    assert err.value.code == "invalid_export"
    assert gallery_checksum(target) == before


def _second_writer(settings: Settings, tmp_path: Path) -> Gallery:
    """The same gallery through its own connection or cache: another process writing it."""
    if is_postgres_uri(settings.gallery_uri):
        return PgVectorGallery(Database(settings.gallery_uri), GALLERY)
    return open_at(dataclasses.replace(settings, cache_dir=tmp_path / "second-writer"))


def test_an_export_is_one_moment_while_the_gallery_is_written(
    kind: str, locate: Locate, pack: PackInfo, faces: FaceMaker, tmp_path: Path
) -> None:
    """What ``write_export`` reads inside ``snapshot()``: identities, then faces. Another writer adds a face
    (of a new identity) and deletes one in between; the snapshot sees neither, later reads see both."""
    settings = locate(kind)
    gallery = open_at(settings)
    fill(gallery, pack)
    other = _second_writer(settings, tmp_path)
    with gallery.snapshot():
        identities = [i.name for i in gallery.iter_identities()]
        first = next(gallery.iter_faces())
        other.add_faces([("late arrival", faces.face("late"), None)], pack=pack)
        other.delete_face(first.record.face_id)
        streamed = [f.record.face_id for f in gallery.iter_faces()]
    assert "late arrival" not in identities
    assert len(streamed) == N_FACES and first.record.face_id in streamed
    assert other.face_count() == N_FACES  # one added, one deleted
    after = [f.record.identity for f in open_at(settings).iter_faces()]
    assert "late arrival" in after and len(after) == N_FACES
