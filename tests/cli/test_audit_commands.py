"""``frs audit`` lists what the API recorded, filtered."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from frs.api.app import Application
from frs.config import Settings
from frs.gallery.factory import clear_gallery_cache
from frs.service import FaceService
from tests.api.conftest import b64
from tests.cli.run import Cli


def test_frs_audit_lists_and_filters(
    local_settings: Settings, tmp_path: Path, testdata: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = {name: (testdata / name).read_bytes() for name in ("person_a_1.jpg", "person_b_1.jpg")}
    audit = tmp_path / "audit"
    app = Application(FaceService(dataclasses.replace(local_settings, audit_uri=str(audit))))
    for name, image in (("Ardern", "person_b_1.jpg"), ("Macron", "person_a_1.jpg")):
        event = {"action": "add", "gallery": "g", "name": name, "image": b64(photo[image])}
        assert app(event, SimpleNamespace(aws_request_id=f"add-{name}"))["ok"]
    assert app({"action": "get", "gallery": "g", "name": "Nobody"}, None)["ok"] is False
    clear_gallery_cache()
    capsys.readouterr()
    cli = Cli(capsys, ["audit", "--audit-uri", str(audit)])
    code, everything = cli()
    assert code == 0 and everything["count"] == 5  # two intents, three decisions
    code, ardern = cli("--identity", "Ardern")
    assert {r["request_id"] for r in ardern["records"]} == {"add-Ardern"}
    code, failed = cli("--outcome", "error")
    assert [r["error"] for r in failed["records"]] == ["not_found"]
    code, adds = cli("--operation", "add", "--in-gallery", "g", "--principal", "direct")
    assert adds["count"] == 4
