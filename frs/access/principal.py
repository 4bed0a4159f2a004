"""The caller of an HTTP request, as API Gateway (or a Function URL) authenticated it.

FRS never authenticates anyone itself: it reads what the gateway put in ``requestContext``, which a caller
cannot forge (API Gateway overwrites it). Sources, by event format:

* HTTP API v2 and Function URLs with IAM auth: ``requestContext.authorizer.iam.userArn``;
* HTTP API v2 with a JWT authorizer: ``requestContext.authorizer.jwt.claims`` and ``.scopes``;
* REST API v1 with IAM auth: ``requestContext.identity.userArn``; with a Cognito authorizer:
  ``requestContext.authorizer.claims`` (scopes from the ``scope`` claim);
* a Lambda authorizer's context (v2 ``authorizer.lambda``, v1 ``authorizer``) may carry the principal's tags
  as ``principalTags`` (an object, or its JSON text) and an ``principalArn``.

Headers are never read here: only ``frs serve`` turns its development header into a request context.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    """Who called: an IAM ARN and/or JWT claims and scopes, and tags where the context carries them."""

    arn: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    #: "direct", "camera", "schedule" or "local:<os user>" (the CLI): a path FRS trusts without a policy
    trusted: str | None = None

    @property
    def identified(self) -> bool:
        return bool(self.arn or self.claims)

    @property
    def label(self) -> str:
        """How audit records and logs name the caller."""
        if self.trusted:
            return self.trusted
        if self.arn:
            return self.arn
        if self.claims:
            subject = self.claims.get("sub") or self.claims.get("client_id") or self.claims.get("username")
            issuer = self.claims.get("iss")
            return f"jwt:{issuer}#{subject}" if issuer else f"jwt:sub={subject}"
        return "anonymous"

    def claim_values(self, name: str) -> list[str]:
        """Every value of claim ``name`` as text: lists, API Gateway's stringified lists ("[a b]"), and the
        space-separated ``scope`` claim are split; ``scope`` also includes the authorizer's scopes."""
        values: list[str] = []
        raw = self.claims.get(name)
        if isinstance(raw, list):
            values.extend(str(v) for v in raw)
        elif isinstance(raw, str):
            text = raw.strip()
            if text.startswith("[") and text.endswith("]"):
                values.extend(text[1:-1].replace(",", " ").split())
            elif name in ("scope", "scp"):
                values.extend(text.split())
            else:
                values.append(raw)
        elif raw is not None:
            values.append(json.dumps(raw) if not isinstance(raw, (int, float, bool)) else str(raw).lower())
        if name in ("scope", "scp"):
            values.extend(self.scopes)
        return values

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"label": self.label}
        if self.arn:
            body["arn"] = self.arn
        if self.claims:
            body["sub"] = self.claims.get("sub")
        if self.scopes:
            body["scopes"] = list(self.scopes)
        return body


DIRECT = Principal(trusted="direct")
CAMERA = Principal(trusted="camera")
SCHEDULE = Principal(trusted="schedule")


def local_principal() -> Principal:
    """The CLI's caller, ``local:<os user>``: trusted like a direct invocation (whoever runs ``frs`` holds
    the storage's credentials, so a policy could not stop them), but named in every audit record."""
    import getpass

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        user = "unknown"
    return Principal(trusted=f"local:{user}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _tags(context: Mapping[str, Any]) -> dict[str, str]:
    raw = context.get("principalTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def principal_of(event: Mapping[str, Any]) -> Principal:
    """The principal of an API Gateway REST (v1), HTTP API (v2) or Function URL event."""
    context = _mapping(event.get("requestContext"))
    authorizer = _mapping(context.get("authorizer"))
    iam = _mapping(authorizer.get("iam"))
    jwt = _mapping(authorizer.get("jwt"))
    lambda_context = _mapping(authorizer.get("lambda")) or authorizer  # v2 nests it, v1 does not
    identity = _mapping(context.get("identity"))
    arn = (
        _text(iam.get("userArn"))
        or _text(identity.get("userArn"))
        or _text(lambda_context.get("principalArn"))
    )
    claims = _mapping(jwt.get("claims")) or _mapping(authorizer.get("claims"))
    raw_scopes = jwt.get("scopes")
    scopes = tuple(str(s) for s in raw_scopes) if isinstance(raw_scopes, list) else ()
    return Principal(arn=arn, claims=dict(claims), scopes=scopes, tags=_tags(lambda_context))
