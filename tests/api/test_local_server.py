"""`frs serve` end to end: a real HTTP server process, the seed's curl flow, Swagger UI and the spec.

The server runs with non-default thresholds given as CLI options, which must reach the application it serves
(it is built from the CLI's own settings).
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frs.config import Settings
from frs.pipeline.analyzer import load_analyzer
from harness.serve import running_server

MATCH_THRESHOLD = 0.3  # the embedded pack's own is 0.363
DET_THRESHOLD = 0.8  # the default is 0.5; several Solvay faces score between the two


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # `frs --pack embedded --threshold T serve --det-threshold D` (the `settings` fixture's pack): global
    # options before and after the command
    with running_server(
        tmp_path_factory.mktemp("serve"),
        global_options=("--pack", "embedded", "--threshold", str(MATCH_THRESHOLD)),
        serve_options=("--det-threshold", str(DET_THRESHOLD)),
    ) as base:
        yield base


def curl(*args: str) -> tuple[int, Any]:
    result = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", *args], capture_output=True, text=True, check=True, timeout=60
    )
    body, status = result.stdout.rsplit("\n", 1)
    return int(status), json.loads(body)


def test_seed_curl_flow(server: str, testdata: Path) -> None:
    status, added = curl(
        "-X", "POST", "-F", f"file=@{testdata / 'person_b_1.jpg'}", f"{server}/add_identity?name=Jacinda"
    )
    assert status == 201 and added["identity"] == "Jacinda"
    status, result = curl("-X", "POST", "-F", f"file=@{testdata / 'person_b_2.jpg'}", f"{server}/recognize")
    assert status == 200
    faces = result["faces"]
    assert isinstance(faces, list) and faces[0]["identity"] == "Jacinda"
    assert result["threshold"] == MATCH_THRESHOLD  # `frs --threshold` reached the served application
    status, listing = curl(f"{server}/galleries/default/identities")
    assert status == 200 and [i["identity"] for i in listing["identities"]] == ["Jacinda"]


def test_det_threshold_option_reaches_the_served_application(
    server: str, testdata: Path, settings: Settings
) -> None:
    photo = testdata / "solvay_conference_1927.jpg"
    analyzer = load_analyzer(settings)
    at_default = analyzer.analyze(photo.read_bytes(), embed=False).faces
    assert analyzer.det_threshold < DET_THRESHOLD
    expected = [f for f in at_default if f.score >= DET_THRESHOLD]
    assert 0 < len(expected) < len(at_default)  # the option makes a visible difference on this photo
    status, detected = curl("-X", "POST", "-F", f"file=@{photo}", f"{server}/detect")
    assert status == 200
    assert len(detected["faces"]) == len(expected)
    assert min(f["det_score"] for f in detected["faces"]) >= DET_THRESHOLD


def test_raw_body_and_errors_over_http(server: str, testdata: Path) -> None:
    status, detected = curl(
        "-X",
        "POST",
        "-H",
        "Content-Type: image/png",
        "--data-binary",
        f"@{testdata / 'newton.png'}",
        f"{server}/detect",
    )
    assert status == 200 and len(detected["faces"]) == 1
    status, error = curl(
        "-X", "POST", "-H", "Content-Type: text/plain", "--data-binary", "hello", f"{server}/detect"
    )
    assert status == 415 and error["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_refused_before_reading(server: str, tmp_path: Path) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"\0" * (8 * 1024 * 1024))
    status, error = curl(
        "-X", "POST", "-H", "Content-Type: image/jpeg", "--data-binary", f"@{big}", f"{server}/detect"
    )
    assert status == 413 and error["error"]["code"] == "payload_too_large"


def test_docs_and_openapi_are_served(server: str) -> None:
    with urllib.request.urlopen(f"{server}/docs", timeout=30) as response:
        html = response.read().decode()
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in html
    with urllib.request.urlopen(f"{server}/openapi.json", timeout=30) as response:
        spec = json.loads(response.read())
    assert (
        "/add_identity" in spec["paths"] and "/galleries/{gallery}/identities/{name}/faces" in spec["paths"]
    )
