"""`frs detect / verify / embed`: JSON on stdout, exit codes, documented errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from frs.cli.main import main
from frs.config import Settings
from tests.access.policies import NO_POLICY


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main(["--pack", "embedded", *argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_detect(capsys: pytest.CaptureFixture[str], testdata: Path) -> None:
    code, out, _ = run(capsys, "detect", str(testdata / "newton.png"))
    assert code == 0
    assert out["image"] == {"width": 768, "height": 432}
    faces = out["faces"]
    assert isinstance(faces, list) and len(faces) == 1
    assert len(faces[0]["bbox"]) == 4 and len(faces[0]["landmarks"]) == 5


def test_verify_genuine_and_impostor(capsys: pytest.CaptureFixture[str], testdata: Path) -> None:
    code, same, _ = run(capsys, "verify", str(testdata / "person_b_1.jpg"), str(testdata / "person_b_2.jpg"))
    assert code == 0 and same["match"] is True
    assert same["operating_point"] == {
        "basis": "target_far",
        "source": "calibrated",
        "target_far": Settings().target_far,
        "false_match_rate": Settings().target_far,
    }
    code, other, _ = run(capsys, "verify", str(testdata / "person_b_1.jpg"), str(testdata / "impostor_1.jpg"))
    assert code == 0 and other["match"] is False and other["threshold"] == same["threshold"]
    assert isinstance(other["similarity"], float) and other["similarity"] < other["threshold"]


def test_verify_threshold_option(capsys: pytest.CaptureFixture[str], testdata: Path) -> None:
    code, out, _ = run(
        capsys,
        "--threshold",
        "0.99",
        "verify",
        str(testdata / "person_b_1.jpg"),
        str(testdata / "person_b_2.jpg"),
    )
    assert code == 0 and out["match"] is False and out["threshold"] == 0.99


def test_verify_names_the_image_without_a_face(
    capsys: pytest.CaptureFixture[str], testdata: Path, tmp_path: Path
) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), (90, 90, 90)).save(blank)
    code, out, err = run(capsys, "verify", str(testdata / "person_b_1.jpg"), str(blank))
    assert code == 2
    assert out == {"error": {"code": "no_face", "message": "no face found in image_b"}}
    assert "no_face" in err


def test_embed_returns_unit_vectors(capsys: pytest.CaptureFixture[str], testdata: Path) -> None:
    code, out, _ = run(capsys, "embed", str(testdata / "person_a_1.jpg"))
    assert code == 0 and out["pack"] == "embedded"
    vector = out["faces"][0]["embedding"]
    assert len(vector) == 128
    assert abs(sum(v * v for v in vector) - 1.0) < 1e-3


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "invalid_image"), (b"not an image", "invalid_image"), (b"GIF89a....", "unsupported_media_type")],
)
def test_bad_files_exit_2_with_error_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "input"
    path.write_bytes(content)
    exit_code, out, _ = run(capsys, "detect", str(path))
    assert exit_code == 2 and out["error"]["code"] == code


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    exit_code, out, _ = run(capsys, "detect", str(tmp_path / "nope.jpg"))
    assert exit_code == 2 and out["error"]["code"] == "bad_request"


def test_python_dash_m_entry_point(testdata: Path) -> None:
    buffer = io.BytesIO()
    Image.open(testdata / "person_b_1.jpg").save(buffer, "WEBP")
    path = testdata.parent / "cli_probe.webp"
    path.write_bytes(buffer.getvalue())
    result = subprocess.run(
        [sys.executable, "-m", "frs", "detect", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["faces"]) == 1
    bad = subprocess.run(
        [sys.executable, "-m", "frs", "frobnicate"], capture_output=True, text=True, check=False, timeout=60
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_health_loads_the_pack(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "health")
    assert code == 0 and out == {"status": "ok", "pack": "embedded", "dim": 128, **NO_POLICY}


def test_verify_target_far_option(capsys: pytest.CaptureFixture[str], testdata: Path) -> None:
    pair = (str(testdata / "person_b_1.jpg"), str(testdata / "person_b_2.jpg"))
    code, loose, _ = run(capsys, "verify", *pair, "--target-far", "0.05")
    code2, strict, _ = run(capsys, "verify", *pair, "--target-far", "1e-6")
    assert code == code2 == 0
    assert loose["operating_point"]["target_far"] == 0.05 and strict["operating_point"]["target_far"] == 1e-6
    assert loose["threshold"] < strict["threshold"]  # a rarer false accept needs a higher threshold
