"""Every boto3 client FRS makes comes from :func:`client`: one region, endpoint, retry and timeout policy.

The policy is in :class:`frs.config.Settings`: ``aws_region``, ``aws_endpoint_url`` (``s3_endpoint_url`` for
S3), ``s3_max_attempts`` attempts per call (the first included; botocore's standard retry mode retries
throttling, 5xx and connection errors) and the ``s3_connect_timeout`` / ``s3_read_timeout`` that abandon a
stalled connection. Endpoints configured for boto3 itself (``AWS_ENDPOINT_URL*`` seen by botocore) are
ignored, so Settings is the only source; credentials still come from boto3's usual chain.

Clients are created once per service and policy and then shared by the whole process (warm invocations
reuse their connections). boto3 sessions are not thread-safe, hence the lock.

boto3 is imported on first use (it is ~75 ms of a cold start that a local gallery never needs);
:func:`prepare` creates at INIT the clients a configuration will use, so the first request does not pay
for them either.
"""

from __future__ import annotations

import threading
from typing import Any

from frs.config import Settings

_clients: dict[tuple[str, str, str | None, int, float, float], Any] = {}
_lock = threading.Lock()


def endpoint_for(service: str, settings: Settings) -> str | None:
    """The endpoint URL ``service`` is reached at, or None for AWS's own."""
    if service == "s3" and settings.s3_endpoint_url:
        return settings.s3_endpoint_url
    return settings.aws_endpoint_url


def client(service: str, settings: Settings, *, region: str | None = None) -> Any:
    """The process-wide boto3 client for ``service`` (``"s3"``, ``"secretsmanager"``, ...).

    ``region`` overrides ``settings.aws_region`` (a Secrets Manager ARN names its own region).
    """
    key = (
        service,
        region or settings.aws_region,
        endpoint_for(service, settings),
        settings.s3_max_attempts,
        settings.s3_connect_timeout,
        settings.s3_read_timeout,
    )
    with _lock:
        made = _clients.get(key)
        if made is None:
            import boto3
            from botocore.config import Config

            config = Config(
                region_name=key[1],
                retries={"mode": "standard", "total_max_attempts": key[3]},
                connect_timeout=key[4],
                read_timeout=key[5],
                tcp_keepalive=True,
                ignore_configured_endpoint_urls=True,
            )
            made = boto3.session.Session().client(service, config=config, endpoint_url=key[2])
            _clients[key] = made
        return made


def prepare(settings: Settings) -> None:
    """Create now (Lambda INIT) the S3 client that ``settings``' gallery or input bucket will use; the camera
    path makes its own clients when the application is built."""
    if settings.gallery_uri.startswith("s3://") or settings.input_bucket:
        client("s3", settings)
