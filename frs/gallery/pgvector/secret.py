"""``postgresql+secretsmanager://<secret ARN>``: the database URI comes from an AWS Secrets Manager secret.

The deployment template points FRS at the RDS/Aurora secret instead of putting a password in an environment
variable (readable by anyone who can read the function's configuration). The secret is the standard RDS JSON
(``host``, ``port``, ``username``, ``password``, ``dbname``); it is read once per process and cached, so warm
invocations pay nothing. The password never appears in errors or logs.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any
from urllib.parse import quote

from frs.errors import FRSError

SCHEME = "postgresql+secretsmanager://"


def is_secret_uri(uri: str) -> bool:
    return uri.startswith(SCHEME)


def _client(secret_id: str) -> Any:
    import boto3
    from botocore.config import Config

    # An ARN names its region; a plain secret name uses the function's region.
    parts = secret_id.split(":")
    region = parts[3] if secret_id.startswith("arn:") and len(parts) > 3 and parts[3] else None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10)
    return boto3.client("secretsmanager", region_name=region, config=config)


@functools.cache
def resolve_secret_uri(uri: str) -> str:
    """The ``postgresql://`` URI described by the secret that ``uri`` names."""
    from botocore.exceptions import BotoCoreError, ClientError

    secret_id = uri[len(SCHEME) :]
    if not secret_id:
        raise FRSError("storage_misconfigured", f"{SCHEME} needs a secret ARN or name after it")
    try:
        raw = _client(secret_id).get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise FRSError(
            "storage_misconfigured", f"cannot read the database secret {secret_id}: {code}"
        ) from exc
    except BotoCoreError as exc:
        raise FRSError("storage_unavailable", f"cannot reach Secrets Manager for {secret_id}") from exc
    try:
        secret = json.loads(raw)
        user, password, host = secret["username"], secret["password"], secret["host"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FRSError(
            "storage_misconfigured",
            f"the database secret {secret_id} must be JSON with username, password, host (port, dbname)",
        ) from exc
    port = int(secret.get("port") or 5432)
    dbname = secret.get("dbname") or "postgres"
    credentials = f"{quote(str(user), safe='')}:{quote(str(password), safe='')}"
    return f"postgresql://{credentials}@{host}:{port}/{quote(str(dbname))}"
