"""What a deployment must set for camera events, and the configurations refused before any event."""

from __future__ import annotations

import dataclasses

import pytest

from frs.api.app import Application
from frs.cctv.processor import default_state_uri, state_uri
from frs.config import Settings
from frs.errors import FRSError
from frs.service import FaceService


def test_the_alert_state_goes_next_to_the_results_by_default():
    assert default_state_uri("s3://cams/results") == "s3://cams/alert-state"
    assert default_state_uri("s3://cams/site1/results/") == "s3://cams/site1/alert-state"
    assert default_state_uri("s3://cams") == "s3://cams/alert-state"
    assert default_state_uri("/var/frs/results") == "/var/frs/alert-state"


@pytest.mark.parametrize(
    ("results", "state"), [("s3://cams", None), ("s3://cams/r", "s3://cams/r/state"), ("/d/r/s", "/d/r")]
)
def test_state_inside_the_results_or_around_them_is_refused(results: str, state: str | None):
    with pytest.raises(FRSError) as raised:
        state_uri(Settings(results_uri=results, alert_state_uri=state), results)
    assert raised.value.code == "misconfigured" and "FRS_ALERT_STATE_URI" in raised.value.message


def test_a_camera_event_without_a_results_location_is_an_operator_error(settings: Settings):
    app = Application(FaceService(settings))  # FRS_RESULTS_URI unset: the HTTP API still works
    event = {"Service": "Amazon S3", "Event": "s3:TestEvent"}
    with pytest.raises(FRSError) as raised:
        app(event, None)
    assert raised.value.code == "misconfigured" and raised.value.message.startswith("FRS_RESULTS_URI")


def test_a_broken_cameras_document_fails_at_start(settings: Settings, tmp_path):
    broken = dataclasses.replace(
        settings, results_uri=str(tmp_path / "results"), cameras='{"door": {"x": 1}}'
    )
    with pytest.raises(FRSError) as raised:
        Application(FaceService(broken))
    assert raised.value.code == "misconfigured" and raised.value.message.startswith("FRS_CAMERAS")
