"""``frs watch DIR``: a folder of frames and a clip replayed as camera events, results and alerts printed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frs.cli.main import main
from frs.gallery.factory import clear_gallery_cache
from harness.clips import Segment, write_clip


@pytest.fixture
def watch(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Any]:
    monkeypatch.setenv("FRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FRS_THREADS", "2")
    for name in ("FRS_CAMERAS", "FRS_RESULTS_URI", "FRS_ALERT_TOPIC_ARN", "FRS_ALERT_COOLDOWN"):
        monkeypatch.delenv(name, raising=False)
    base = ["--gallery-uri", str(tmp_path / "galleries")]

    def run(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        code = main([*base, *argv])
        captured = capsys.readouterr()
        if argv[0] != "watch" or captured.out.startswith("{\n"):  # other commands print one indented document
            return code, [json.loads(captured.out)], captured.err
        return code, [json.loads(line) for line in captured.out.splitlines() if line], captured.err

    yield run
    clear_gallery_cache()


def test_watch_replays_frames_and_clips_with_results_alerts_and_the_cooldown(
    watch: Any, testdata: Path, tmp_path: Path
):
    code, _, _ = watch("add", "A", str(testdata / "person_a_1.jpg"), "--metadata", '{"watchlist": true}')
    assert code == 0
    frames = tmp_path / "frames"
    (frames / "cameras" / "lobby").mkdir(parents=True)
    for index, name in enumerate(["person_a_2.jpg", "person_a_2.jpg", "impostor_1.jpg"]):
        target = frames / f"2024-05-01T12-00-0{index}Z-{name}"
        shutil.copy(testdata / name, target)
    shutil.copy(testdata / "impostor_2.jpg", frames / "cameras" / "lobby" / "visitor.jpg")
    write_clip(frames / "2024-05-01T12-10-00Z.mp4", [Segment(testdata / "person_a_2.jpg", 1.0)], fps=4)
    (frames / "notes.txt").write_text("not a frame")
    os.utime(frames / "cameras" / "lobby" / "visitor.jpg", (1714564800, 1714564800))  # 2024-05-01T12:00Z
    results = tmp_path / "results"

    code, lines, err = watch(
        "watch", str(frames), "--camera", "door", "--results", str(results),
        "--cameras", '{"lobby": {"alert_unknown": true}}',
    )  # fmt: skip

    assert code == 0
    printed = [next(iter(line)) for line in lines]
    assert printed.count("result") == 5
    alerts = [line["alert"] for line in lines if "alert" in line]
    # The first A frame alerts, the second is 1 s later (cooldown), the clip 10 minutes later alerts again;
    # unknown faces only on the lobby camera.
    assert [(a["type"], a["camera"], a["identity"]) for a in alerts] == [
        ("face.match", "door", "A"),
        ("face.match", "door", "A"),
        ("face.unknown", "lobby", None),
    ]
    assert alerts[1]["track"]["first_seen_at"] == "2024-05-01T12:10:00.000Z"
    assert alerts[2]["captured_at"] == "2024-05-01T12:00:00.000Z"  # the file's time
    assert sorted(p.relative_to(results).as_posix() for p in results.rglob("*.json")) == [
        "door/2024-05-01T12-00-00Z-person_a_2.jpg.json",
        "door/2024-05-01T12-00-01Z-person_a_2.jpg.json",
        "door/2024-05-01T12-00-02Z-impostor_1.jpg.json",
        "door/2024-05-01T12-10-00Z.mp4.json",
        "lobby/visitor.jpg.json",
    ]
    second = json.loads((results / "door/2024-05-01T12-00-01Z-person_a_2.jpg.json").read_text())
    assert second["alerts"][0]["status"] == "suppressed"
    assert "5 objects (5 ok), 3 alerts" in err


def test_without_a_camera_configuration_every_camera_searches_the_gallery_option(
    watch: Any, testdata: Path, tmp_path: Path
):
    assert watch("add", "B", str(testdata / "person_b_1.jpg"), "--gallery", "staff")[0] == 0
    frames = tmp_path / "frames"
    frames.mkdir()
    shutil.copy(testdata / "person_b_2.jpg", frames / "b.jpg")
    code, lines, _ = watch("watch", str(frames), "--gallery", "staff", "--results", str(tmp_path / "r"))
    assert code == 0
    (result,) = [line["result"] for line in lines]
    assert (result["gallery"], result["faces"][0]["identity"]) == ("staff", "B")


def test_watch_refuses_a_missing_folder_and_a_bad_camera(watch: Any, tmp_path: Path):
    code, lines, _ = watch("watch", str(tmp_path / "nowhere"))
    assert code == 2 and lines[0]["error"]["code"] == "bad_request"
    code, lines, _ = watch("watch", str(tmp_path), "--camera", "no/slash")
    assert code == 2 and "--camera" in lines[0]["error"]["message"]
