"""Principals from the request contexts API Gateway builds: REST v1, HTTP API v2, Function URLs."""

from __future__ import annotations

from frs.access.principal import Principal, principal_of
from tests.api.events import v1_event, v2_event

ROLE = "arn:aws:sts::123456789012:assumed-role/frs-reader/session-1"


def test_http_api_and_function_url_iam_callers() -> None:
    event = v2_event("GET", "/health")
    event["requestContext"]["authorizer"] = {"iam": {"accountId": "123456789012", "userArn": ROLE}}
    assert principal_of(event).arn == ROLE
    assert principal_of(event).label == ROLE


def test_http_api_jwt_callers_have_claims_and_scopes() -> None:
    event = v2_event("GET", "/health")
    event["requestContext"]["authorizer"] = {
        "jwt": {
            "claims": {"sub": "u-1", "iss": "https://issuer", "cognito:groups": "[staff admins]"},
            "scopes": ["frs/read"],
        }
    }
    principal = principal_of(event)
    assert principal.arn is None and principal.identified
    assert principal.claim_values("cognito:groups") == ["staff", "admins"]
    assert principal.claim_values("scope") == ["frs/read"]
    assert principal.label == "jwt:https://issuer#u-1"


def test_rest_api_iam_and_cognito_callers() -> None:
    event = v1_event("GET", "/health")
    event["requestContext"]["identity"]["userArn"] = ROLE
    assert principal_of(event).arn == ROLE
    cognito = v1_event("GET", "/health")
    cognito["requestContext"]["authorizer"] = {"claims": {"sub": "u-2", "scope": "frs/read frs/write"}}
    assert principal_of(cognito).claim_values("scope") == ["frs/read", "frs/write"]


def test_lambda_authorizer_tags() -> None:
    event = v2_event("GET", "/health")
    event["requestContext"]["authorizer"] = {
        "lambda": {"principalArn": ROLE, "principalTags": '{"team": "door"}'}
    }
    principal = principal_of(event)
    assert principal.arn == ROLE and principal.tags == {"team": "door"}


def test_an_unauthenticated_event_names_nobody_and_headers_are_never_read() -> None:
    event = v2_event("GET", "/health")
    event["headers"]["x-frs-principal"] = ROLE  # only `frs serve` turns that into a context
    principal = principal_of(event)
    assert principal == Principal() and not principal.identified and principal.label == "anonymous"
