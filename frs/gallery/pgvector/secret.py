"""``postgresql+secretsmanager://<secret ARN>``: the database URI comes from an AWS Secrets Manager secret.

The deployment template points FRS at the RDS/Aurora secret instead of putting a password in an environment
variable (readable by anyone who can read the function's configuration). The secret is the standard RDS JSON
(``host``, ``port``, ``username``, ``password``, ``dbname``). :class:`SecretUri` reads it once and keeps it,
so warm invocations pay nothing, and reads it again when the database rejects the password: Secrets Manager
rotation changes the password under running instances, which must follow it rather than fail until they are
recycled (:class:`frs.gallery.pgvector.connection.Database` asks for the re-read). The password never
appears in errors or logs.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import quote

from frs import aws
from frs.config import Settings
from frs.errors import FRSError

SCHEME = "postgresql+secretsmanager://"


def is_secret_uri(uri: str) -> bool:
    return uri.startswith(SCHEME)


def _region_of(secret_id: str) -> str | None:
    # An ARN names its region; a plain secret name uses the function's (Settings.aws_region).
    parts = secret_id.split(":")
    return parts[3] if secret_id.startswith("arn:") and len(parts) > 3 and parts[3] else None


def read_secret_uri(uri: str, settings: Settings) -> str:
    """The ``postgresql://`` URI described, right now, by the secret that ``uri`` names."""
    from botocore.exceptions import BotoCoreError, ClientError

    secret_id = uri[len(SCHEME) :]
    if not secret_id:
        raise FRSError("storage_misconfigured", f"{SCHEME} needs a secret ARN or name after it")
    secrets = aws.client("secretsmanager", settings, region=_region_of(secret_id))
    try:
        raw = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise FRSError(
            "storage_misconfigured", f"cannot read the database secret {secret_id}: {code}"
        ) from exc
    except BotoCoreError as exc:
        raise FRSError("storage_unavailable", f"cannot reach Secrets Manager for {secret_id}") from exc
    try:
        secret = json.loads(raw)
        user, password, host = secret["username"], secret["password"], str(secret["host"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise FRSError(
            "storage_misconfigured",
            f"the database secret {secret_id} must be JSON with username, password, host (port, dbname)",
        ) from exc
    port = int(secret.get("port") or 5432)
    dbname = secret.get("dbname") or "postgres"
    credentials = f"{quote(str(user), safe='')}:{quote(str(password), safe='')}"
    # A Unix-socket directory goes percent-encoded into the host part (libpq's URI syntax).
    where = quote(host, safe="") if host.startswith("/") else host
    return f"postgresql://{credentials}@{where}:{port}/{quote(str(dbname))}"


class SecretUri:
    """The database URI of a secret: read on first use, kept, and re-read on request (after a rotation)."""

    def __init__(self, uri: str, settings: Settings) -> None:
        self.uri = uri
        self._settings = settings
        self._current: str | None = None
        self._lock = threading.Lock()

    def current(self) -> str:
        with self._lock:
            if self._current is None:
                self._current = read_secret_uri(self.uri, self._settings)
            return self._current

    def refresh(self) -> bool:
        """Read the secret again; True if it now describes other credentials (or another database)."""
        fresh = read_secret_uri(self.uri, self._settings)
        with self._lock:
            changed, self._current = fresh != self._current, fresh
        return changed


class FixedUri:
    """A ``postgresql://`` URI given directly: nothing to re-read."""

    def __init__(self, uri: str) -> None:
        self.uri = uri

    def current(self) -> str:
        return self.uri

    def refresh(self) -> bool:
        return False
