"""``frs gallery export|import|copy|restore`` through the real CLI (in-process): JSON on stdout, exit codes,
the export file on stdout with ``--out -``, a progress bar on stderr with ``--progress``."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from frs.audit.reader import read_records
from frs.cli.main import main
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache, open_gallery
from frs.gallery.transfer.checksum import gallery_checksum
from tests.cli.run import Cli
from tests.gallery.synthetic import TEST_PACK, FaceMaker


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("FRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FRS_SYNC_TTL", "0")
    monkeypatch.delenv("FRS_GALLERY_URI", raising=False)
    yield tmp_path
    clear_gallery_cache()


def _filled(settings: Settings, where: Path, n: int = 25) -> Settings:
    located = dataclasses.replace(
        settings, gallery_uri=str(where), cache_dir=where.parent / "fill-cache", sync_ttl=0
    )
    faces = FaceMaker()
    gallery = open_gallery("site1", located)
    gallery.add_faces(
        [(f"p{i % 6}", faces.face(f"f{i}"), {"i": i} if i < 6 else None) for i in range(n)], pack=TEST_PACK
    )
    return located


def _at(where: Path) -> Settings:
    return dataclasses.replace(
        Settings(), gallery_uri=str(where), cache_dir=where.parent / "check-cache", sync_ttl=0
    )


def test_export_import_copy_restore(
    env: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _filled(settings, env / "a")
    expected = gallery_checksum(open_gallery("site1", source))
    cli = Cli(capsys, ["--gallery", "site1"])
    export = env / "site1.frs.gz"

    code, out = cli("gallery", "export", "--out", str(export), "--gallery-uri", str(env / "a"))
    assert code == 0 and (out["faces"], out["identities"]) == (25, 6) and len(out["sha256"]) == 64

    code, out = cli("gallery", "import", str(export), "--gallery-uri", str(env / "b"))
    assert code == 0 and (out["faces_added"], out["identities_added"], out["pack"]) == (25, 6, TEST_PACK.name)
    code, out = cli("gallery", "import", str(export), "--gallery-uri", str(env / "b"))
    assert code == 0 and (out["faces_added"], out["faces_skipped"]) == (0, 25)
    assert gallery_checksum(open_gallery("site1", _at(env / "b"))) == expected

    code, out = cli(
        "--gallery-uri", str(env / "a"), "gallery", "copy", "--to", str(env / "c"), "--chunk-faces", "10"
    )
    assert code == 0 and out["verified"] and (out["faces_added"], out["chunks_written"]) == (25, 3)
    assert out["checksum"] == expected.digest

    open_gallery("site1", _at(env / "c")).delete_identity("p0")
    code, out = cli("gallery", "restore", "--from-export", str(export), "--gallery-uri", str(env / "c"))
    assert code == 0 and out["faces_in_file"] == 25
    clear_gallery_cache()
    assert gallery_checksum(open_gallery("site1", _at(env / "c"))) == expected

    code, out = cli("gallery", "restore", "--version-id", "v1", "--gallery-uri", str(env / "c"))
    assert code == 2 and out["error"]["code"] == "bad_request"  # a directory keeps no versions


def test_bad_input_is_an_error_code(
    env: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(capsys, ["--gallery", "site1", "--gallery-uri", str(env / "b")])
    broken = env / "broken.gz"
    broken.write_bytes(gzip.compress(b'{"format": "frs-gallery-export", "version": 1}\n'))
    code, out = cli("gallery", "import", str(broken))
    assert code == 2 and out["error"]["code"] == "invalid_export"
    code, out = cli("gallery", "import", "-")
    assert code == 2 and out["error"]["code"] == "bad_request"
    _filled(settings, env / "a")
    code, out = cli("gallery", "copy", "--from", str(env / "a"), "--to", str(env / "a"))
    assert code == 2 and out["error"]["code"] == "bad_request"


def test_export_to_stdout_and_progress_on_stderr(
    env: Path, settings: Settings, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    _filled(settings, env / "a")
    code = main(
        [
            "gallery",
            "export",
            "--gallery",
            "site1",
            "--gallery-uri",
            str(env / "a"),
            "--out",
            "-",
            "--progress",
        ]
    )
    captured = capsysbinary.readouterr()
    assert code == 0
    lines = gzip.decompress(captured.out).splitlines()
    assert json.loads(lines[0])["format"] == "frs-gallery-export"
    assert json.loads(lines[-1])["faces"] == 25
    assert b"25face" in captured.err.replace(b" ", b"") and b"exported 6 identities, 25 faces" in captured.err


def test_the_whole_gallery_commands_write_audit_records(
    env: Path, settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRS_AUDIT_URI", str(env / "audit"))
    _filled(settings, env / "a")
    cli = Cli(capsys, ["--gallery", "site1"])
    export = env / "site1.frs.gz"
    commands = [
        ("--gallery-uri", str(env / "a"), "gallery", "export", "--out", str(export)),
        ("--gallery-uri", str(env / "b"), "gallery", "import", str(export)),
        ("--gallery-uri", str(env / "a"), "gallery", "copy", "--to", str(env / "c")),
        ("--gallery-uri", str(env / "c"), "gallery", "restore", "--version-id", "v1"),  # refused: no versions
    ]
    codes = [cli(*command)[0] for command in commands]
    assert codes == [0, 0, 0, 2]

    records = read_records(Settings(audit_uri=str(env / "audit")))
    decisions = [(r["operation"], r["outcome"]) for r in records if r["phase"] == "decision"]
    assert decisions == [
        ("gallery_export", "ok"),
        ("gallery_import", "ok"),
        ("gallery_copy", "ok"),
        ("gallery_restore", "error"),
    ]
    # A change (import, restore) is announced before it runs; reads (export, copy's source) are not.
    intents = [r["operation"] for r in records if r["phase"] == "intent"]
    assert intents == ["gallery_import", "gallery_restore"]
    assert {r["gallery"] for r in records} == {"site1"} and {r["surface"] for r in records} == {"cli"}
    assert {r["access"] for r in records} == {"read", "write", "delete"}
