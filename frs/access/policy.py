"""``FRS_ACCESS_POLICY``: which callers may read, write or delete in which galleries.

The document (inline JSON, or ``s3://bucket/key`` of one)::

    {"rules": [{"principal": "arn:aws:iam::123456789012:role/frs-reader*",
                "galleries": ["staff", "visitors-*"], "operations": ["read"]},
               {"principal": "jwt:scope=frs/admin", "galleries": ["*"],
                "operations": ["read", "write", "delete"]}]}

``principal`` is an IAM ARN glob (``*`` and ``?``, case-sensitive), ``jwt:<claim>=<value>`` (exact; list
claims and the ``scope`` claim match any of their values), ``tag:<key>=<value>`` (tags a Lambda authorizer
passed), or ``*`` (any identified caller). ``galleries`` are names or globs. The first rule whose principal
and gallery both match decides: allowed if it lists the operation's class, refused otherwise; no matching rule
refuses. A refusal is ``forbidden`` whatever the gallery, so it never tells whether the gallery exists.

The document is parsed and checked when the function starts (Lambda INIT): anything malformed is
``misconfigured`` naming ``FRS_ACCESS_POLICY``, so a bad policy fails INIT and never runs open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from frs.access.classes import ACCESS_CLASSES, AccessClass
from frs.access.principal import Principal
from frs.config import Settings, misconfigured
from frs.errors import FRSError

VARIABLE = "FRS_ACCESS_POLICY"
_RULE_KEYS = {"principal", "galleries", "operations", "description"}


@dataclass(frozen=True)
class Rule:
    principal: str
    galleries: tuple[str, ...]
    operations: frozenset[AccessClass]

    def matches_principal(self, principal: Principal) -> bool:
        pattern = self.principal
        if pattern == "*":
            return principal.identified
        if pattern.startswith("jwt:"):
            claim, _, value = pattern[len("jwt:") :].partition("=")
            return value in principal.claim_values(claim)
        if pattern.startswith("tag:"):
            key, _, value = pattern[len("tag:") :].partition("=")
            return principal.tags.get(key) == value
        return principal.arn is not None and fnmatchcase(principal.arn, pattern)

    def matches_gallery(self, gallery: str) -> bool:
        return any(fnmatchcase(gallery, pattern) for pattern in self.galleries)


@dataclass(frozen=True)
class AccessPolicy:
    rules: tuple[Rule, ...]
    origin: str  # "inline" or the s3:// URI, for /health and messages

    def rule_for(self, principal: Principal, gallery: str) -> Rule | None:
        return next(
            (r for r in self.rules if r.matches_principal(principal) and r.matches_gallery(gallery)), None
        )

    def allows(self, principal: Principal, gallery: str, access: AccessClass) -> bool:
        rule = self.rule_for(principal, gallery)
        return rule is not None and access in rule.operations

    def check(self, principal: Principal, gallery: str, access: AccessClass) -> None:
        """Raise ``forbidden`` unless the policy lets ``principal`` ``access`` ``gallery``."""
        if not self.allows(principal, gallery, access):
            # The same words whether or not the gallery exists, and no rule is quoted back.
            raise FRSError("forbidden", f"the caller may not {access} in this gallery")

    def summary(self) -> dict[str, Any]:
        return {"policy": self.origin, "rules": len(self.rules)}


def _problem(text: str, origin: str, document: str) -> FRSError:
    return misconfigured(VARIABLE, text, document[:120] if origin == "inline" else origin)


def _strings(value: Any, what: str, index: int) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise misconfigured(VARIABLE, f"rule {index}: '{what}' must be a non-empty list of strings", value)
    return tuple(value)


def _principal(value: Any, index: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise misconfigured(VARIABLE, f"rule {index}: 'principal' must be a non-empty string", value)
    if value.startswith(("jwt:", "tag:")):
        name, sep, expected = value[4:].partition("=")
        if not sep or not name or not expected:
            raise misconfigured(
                VARIABLE, f"rule {index}: 'principal' must be {value[:4]}<name>=<value>", value
            )
    elif value != "*" and not value.startswith("arn:"):
        raise misconfigured(
            VARIABLE,
            f"rule {index}: 'principal' must be an IAM ARN glob (arn:...), jwt:<claim>=<value>, "
            "tag:<key>=<value> or *",
            value,
        )
    return value


def parse_policy(text: str, origin: str) -> AccessPolicy:
    """The policy in ``text``; ``misconfigured`` (naming FRS_ACCESS_POLICY) for anything malformed."""
    try:
        document = json.loads(text)
    except ValueError:
        raise _problem("must be JSON (or s3://bucket/key of a JSON document)", origin, text) from None
    if (
        not isinstance(document, dict)
        or set(document) != {"rules"}
        or not isinstance(document["rules"], list)
    ):
        raise _problem('must be {"rules": [...]} and nothing else', origin, text)
    rules = []
    for index, raw in enumerate(document["rules"]):
        if not isinstance(raw, dict) or not {"principal", "galleries", "operations"} <= set(raw):
            raise misconfigured(VARIABLE, f"rule {index} needs principal, galleries and operations", raw)
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise misconfigured(VARIABLE, f"rule {index} has unknown keys {sorted(unknown)}", raw)
        operations = _strings(raw["operations"], "operations", index)
        wrong = [o for o in operations if o not in ACCESS_CLASSES]
        if wrong:
            raise misconfigured(
                VARIABLE, f"rule {index}: operations must be among {', '.join(ACCESS_CLASSES)}", wrong
            )
        rules.append(
            Rule(
                principal=_principal(raw["principal"], index),
                galleries=_strings(raw["galleries"], "galleries", index),
                operations=frozenset(operations),  # type: ignore[arg-type]
            )
        )
    return AccessPolicy(tuple(rules), origin)


def load_policy(settings: Settings) -> AccessPolicy | None:
    """The policy ``settings`` name (read from S3 now for an ``s3://`` one), or None without one."""
    value = (settings.access_policy or "").strip()
    if not value:
        return None
    if not value.startswith("s3://"):
        return parse_policy(value, "inline")
    from frs.cctv.objects import open_store, split_s3_uri

    bucket, key = split_s3_uri(value)
    if not bucket or not key:
        raise misconfigured(VARIABLE, "must be JSON or s3://bucket/key of a JSON document", value)
    try:
        stored = open_store(f"s3://{bucket}", settings).get(key)
    except FRSError as error:
        raise misconfigured(
            VARIABLE, f"names an S3 object FRS cannot read ({error.message})", value
        ) from None
    if stored is None:
        raise misconfigured(VARIABLE, "names an S3 object that does not exist", value)
    return parse_policy(stored.data.decode("utf-8", errors="replace"), value)
