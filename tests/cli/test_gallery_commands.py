"""The gallery commands through the real CLI (``frs.cli.main.main``, in-process) on real photos: JSON on
stdout, exit 0 / 2 (bad input) / 1 (server side), global options before or after the command."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from frs.cli.main import main
from frs.gallery.factory import clear_gallery_cache
from tests.cli.run import Cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Cli]:
    """``frs`` with a fresh gallery directory (``--gallery-uri`` in every call) and its own cache."""
    monkeypatch.setenv("FRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FRS_SYNC_TTL", "0")
    monkeypatch.setenv("FRS_THREADS", "2")
    monkeypatch.delenv("FRS_GALLERY_URI", raising=False)
    yield Cli(capsys, ["--gallery-uri", str(tmp_path / "galleries")])
    clear_gallery_cache()


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    path = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), (90, 90, 90)).save(path)
    return path


def test_add_identify_get_list_delete(cli: Cli, testdata: Path, blank: Path) -> None:
    one, two = str(testdata / "person_b_1.jpg"), str(testdata / "person_b_2.jpg")
    code, added = cli("add", "Jacinda", one, "--gallery", "site1", "--metadata", '{"team": "nz"}')
    assert code == 0
    (first,) = added["results"]  # one image: the same {"results": [...]} shape as several
    assert (first["image"], first["identity"], first["face_count"], first["created"]) == (
        one,
        "Jacinda",
        1,
        True,
    )

    code, again = cli("add", "Jacinda", one, two, str(blank), "--gallery", "site1")
    assert code == 0  # some images were enrolled: the failures are reported per image
    results = again["results"]
    assert [r["image"] for r in results] == [one, two, str(blank)]
    assert (results[0]["created"], results[0]["face_id"]) == (False, first["face_id"])  # same photo again
    assert (results[1]["created"], results[1]["face_count"]) == (True, 2)
    assert results[2]["error"]["code"] == "no_face" and results[2]["identity"] == "Jacinda"

    code, found = cli("identify", two, "--gallery", "site1", "--top-k", "3")
    assert code == 0 and found["faces"][0]["identity"] == "Jacinda"
    code, elsewhere = cli("identify", two)  # the default gallery is empty: the option above took effect
    assert code == 0 and elsewhere["faces"][0]["identity"] is None

    code, person = cli("--gallery", "site1", "get", "Jacinda")  # global option before the command
    assert code == 0 and person["face_count"] == 2 and person["metadata"] == {"team": "nz"}
    code, page = cli("list", "--prefix", "Ja", "--gallery", "site1")
    assert code == 0 and [i["identity"] for i in page["identities"]] == ["Jacinda"]

    code, removed = cli("delete-face", results[1]["face_id"], "--gallery", "site1")
    assert code == 0 and removed == {"face_id": results[1]["face_id"], "identity": "Jacinda"}
    code, deleted = cli("delete", "Jacinda", "--gallery", "site1")
    assert code == 0
    assert deleted == {"identity": "Jacinda", "faces_removed": 1, "face_ids": [first["face_id"]]}
    code, gone = cli("get", "Jacinda", "--gallery", "site1")
    assert code == 2 and gone["error"]["code"] == "not_found"


def test_enroll_a_directory_and_report_the_skips(
    cli: Cli, testdata: Path, tmp_path: Path, blank: Path
) -> None:
    people = tmp_path / "people"
    for name, photos in {"ann": ["person_a_1.jpg", "person_a_2.jpg"], "bob": ["person_b_1.jpg"]}.items():
        (people / name).mkdir(parents=True)
        for photo in photos:
            shutil.copy(testdata / photo, people / name / photo)
    shutil.copy(blank, people / "bob" / "blank.png")
    (people / "bob" / "notes.txt").write_text("not a photo")
    (people / "stray.jpg").write_bytes((testdata / "person_b_2.jpg").read_bytes())
    (people / "README.md").write_text("ignored")

    code, report = cli("enroll", str(people), "--gallery", "team")
    assert code == 0
    assert (report["enrolled"], report["identities"]) == (3, 2)
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"stray.jpg", "notes.txt", "blank.png"}
    assert reasons["blank.png"].startswith("no_face")
    code, page = cli("list", "--gallery", "team")
    assert [(i["identity"], i["face_count"]) for i in page["identities"]] == [("ann", 2), ("bob", 1)]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["add", "a/b", "{photo}"], "bad_request"),  # identity name with '/'
        (["add", "Ann", "{photo}", "--metadata", "not json"], "bad_request"),
        (["add", "Ann", "{blank}"], "no_face"),
        (["add", "Ann", "{missing}"], "bad_request"),
        (["identify", "{photo}", "--top-k", "0"], "bad_request"),
        (["list", "--page-size", "0"], "bad_request"),
        (["delete-face", "not-a-uuid"], "bad_request"),
        (["get", "Nobody", "--gallery", "../etc"], "bad_request"),
        (["enroll", "{missing}"], "bad_request"),
    ],
)
def test_bad_input_exits_2_with_a_documented_error(
    cli: Cli, testdata: Path, blank: Path, tmp_path: Path, argv: list[str], code: str
) -> None:
    paths = {"photo": testdata / "person_b_1.jpg", "blank": blank, "missing": tmp_path / "nope"}
    exit_code, out = cli(*(arg.format(**{k: str(v) for k, v in paths.items()}) for arg in argv))
    assert exit_code == 2 and out["error"]["code"] == code


@pytest.mark.parametrize(
    "argv",
    [
        ["add", "Ann"],  # no image
        ["identify", "{photo}", "--det-threshold", "0"],  # out of range, after the command
        ["--threshold", "2", "identify", "{photo}"],  # out of range, before it
        ["list", "--no-such-option"],
    ],
)
def test_unusable_command_lines_exit_2(
    capsys: pytest.CaptureFixture[str], testdata: Path, argv: list[str]
) -> None:
    assert main([arg.format(photo=testdata / "person_b_1.jpg") for arg in argv]) == 2
    assert "usage: frs" in capsys.readouterr().err


def test_a_bad_setting_is_misconfigured_and_exits_1(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRS_ANN_MIN_FACES", "lots")  # used to answer every gallery call 400 bad_request
    code, out = cli("list")
    assert code == 1
    assert out["error"] == {
        "code": "misconfigured",
        "message": "FRS_ANN_MIN_FACES must be an integer, got 'lots'",
    }


def test_options_after_the_command_override_the_environment(
    cli: Cli, testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRS_MATCH_THRESHOLD", "0.9")
    photo = str(testdata / "person_b_1.jpg")
    code, strict = cli("verify", photo, str(testdata / "person_b_2.jpg"))
    assert code == 0 and strict["threshold"] == 0.9 and strict["match"] is False
    code, loose = cli("verify", photo, str(testdata / "person_b_2.jpg"), "--threshold", "0.2")
    assert code == 0 and loose["threshold"] == 0.2 and loose["match"] is True
    code, detected = cli("detect", str(testdata / "solvay_conference_1927.jpg"), "--det-threshold", "0.8")
    assert code == 0 and min(f["det_score"] for f in detected["faces"]) >= 0.8


def test_identify_and_add_take_the_decision_options(cli: Cli, testdata: Path, tmp_path: Path) -> None:
    import cv2

    one, two = testdata / "person_b_1.jpg", str(testdata / "person_b_2.jpg")
    blurred = tmp_path / "blurred.png"
    image = cv2.imread(str(testdata / "person_a_1.jpg"))
    assert image is not None
    image = cv2.resize(
        image, (300, round(300 * image.shape[0] / image.shape[1])), interpolation=cv2.INTER_AREA
    )
    cv2.imwrite(str(blurred), cv2.GaussianBlur(image, (0, 0), 8.0))
    code, added = cli("add", "Jacinda", str(one), str(blurred), "--quality-filter", "medium")
    assert code == 0  # the batch succeeds: the blurred photo is refused on its own
    assert added["results"][0]["created"] is True
    refused = added["results"][1]
    assert refused["error"]["code"] == "low_quality" and refused["image"] == str(blurred)
    # The default pack (open) judges this one by YuNet's confidence as much as by sharpness.
    assert set(refused["error"]["details"]["reasons"]) & {"LOW_SHARPNESS", "LOW_CONFIDENCE"}
    code, found = cli("identify", two, "--target-fpir", "0.05", "--quality-filter", "low", "--top-k", "1")
    assert code == 0 and found["faces"][0]["identity"] == "Jacinda"
    assert (
        found["operating_point"]["target_fpir"] == 0.05
        and found["operating_point"]["quality_filter"] == "low"
    )
    code, bad = cli("identify", two, "--target-fpir", "2")
    assert code == 2 and bad["error"]["code"] == "bad_request"
