"""FRS_ACCESS_POLICY: parsing (a malformed policy is misconfigured, never open) and the first-match rule."""

from __future__ import annotations

import dataclasses
import json

import pytest

from frs.access.policy import load_policy, parse_policy
from frs.access.principal import Principal
from frs.config import Settings
from frs.errors import FRSError
from harness.s3 import S3Endpoint

READER = Principal(arn="arn:aws:sts::123456789012:assumed-role/frs-reader/s1")
ADMIN = Principal(claims={"sub": "u-1", "scope": "frs/admin"})
POLICY = {
    "rules": [
        {"principal": "arn:aws:sts::123456789012:assumed-role/frs-reader/*", "galleries": ["a"],
         "operations": ["read"]},
        {"principal": "jwt:scope=frs/admin", "galleries": ["*"], "operations": ["read", "write", "delete"]},
        {"principal": "*", "galleries": ["public-*"], "operations": ["read"]},
    ]
}  # fmt: skip


def test_the_first_rule_matching_principal_and_gallery_decides() -> None:
    policy = parse_policy(json.dumps(POLICY), "inline")
    assert policy.allows(READER, "a", "read")
    assert not policy.allows(READER, "a", "write")  # the first match decides: no fall-through
    assert not policy.allows(READER, "b", "read")
    assert policy.allows(READER, "public-x", "read")
    assert policy.allows(ADMIN, "anything", "delete")
    assert not policy.allows(Principal(), "public-x", "read")  # "*" needs an identified caller


def test_a_refusal_says_the_same_whatever_the_gallery() -> None:
    policy = parse_policy(json.dumps(POLICY), "inline")
    messages = set()
    for gallery in ("b", "does-not-exist"):
        with pytest.raises(FRSError) as caught:
            policy.check(READER, gallery, "read")
        assert caught.value.code == "forbidden" and caught.value.status == 403
        messages.add(caught.value.message)
    assert len(messages) == 1 and "does-not-exist" not in messages.pop()


def test_tags_and_list_claims() -> None:
    policy = parse_policy(
        json.dumps({"rules": [
            {"principal": "tag:team=door", "galleries": ["door"], "operations": ["read"]},
            {"principal": "jwt:cognito:groups=staff", "galleries": ["staff"], "operations": ["read"]},
        ]}),
        "inline",
    )  # fmt: skip
    assert policy.allows(Principal(arn="arn:aws:iam::1:role/x", tags={"team": "door"}), "door", "read")
    assert policy.allows(Principal(claims={"cognito:groups": ["staff", "x"]}), "staff", "read")
    assert not policy.allows(Principal(claims={"cognito:groups": "staffers"}), "staff", "read")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"rules": {}}',
        '{"rules": [], "extra": 1}',
        '{"rules": [{"principal": "arn:*", "galleries": ["a"]}]}',
        '{"rules": [{"principal": "arn:*", "galleries": [], "operations": ["read"]}]}',
        '{"rules": [{"principal": "arn:*", "galleries": ["a"], "operations": ["admin"]}]}',
        '{"rules": [{"principal": "bob", "galleries": ["a"], "operations": ["read"]}]}',
        '{"rules": [{"principal": "jwt:sub", "galleries": ["a"], "operations": ["read"]}]}',
        '{"rules": [{"principal": "arn:*", "galleries": ["a"], "operations": ["read"], "effect": "deny"}]}',
    ],
)
def test_a_malformed_policy_is_misconfigured(text: str) -> None:
    with pytest.raises(FRSError) as caught:
        load_policy(Settings(access_policy=text))
    assert caught.value.code == "misconfigured" and "FRS_ACCESS_POLICY" in caught.value.message


def test_no_policy_is_none() -> None:
    assert load_policy(Settings()) is None


def test_a_policy_in_s3(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in s3_endpoint.env().items():
        monkeypatch.setenv(name, value)
    bucket = s3_endpoint.create_bucket()
    s3_endpoint.client().put_object(Bucket=bucket, Key="config/policy.json", Body=json.dumps(POLICY).encode())
    settings = dataclasses.replace(Settings(), aws_endpoint_url=s3_endpoint.url)
    policy = load_policy(dataclasses.replace(settings, access_policy=f"s3://{bucket}/config/policy.json"))
    assert policy is not None and len(policy.rules) == 3 and policy.origin.startswith("s3://")
    for uri in (f"s3://{bucket}/config/missing.json", f"s3://{bucket}"):
        with pytest.raises(FRSError) as caught:
            load_policy(dataclasses.replace(settings, access_policy=uri))
        assert caught.value.code == "misconfigured"
