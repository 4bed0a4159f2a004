"""`postgresql+secretsmanager://ARN`: resolved through a real Secrets Manager API (moto server), and followed
through a password rotation by a warm gallery on a real PostgreSQL (pgserver) that checks the password."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.factory import is_postgres_uri, open_gallery
from frs.gallery.pgvector.secret import SCHEME, read_secret_uri
from frs.packs.info import PackInfo
from harness.postgres import PgServer, shared_pg_server
from harness.s3 import S3Endpoint
from tests.gallery.synthetic import FaceMaker


def _secrets(endpoint: S3Endpoint) -> Any:
    """A plain boto3 Secrets Manager client for set-up (the rotation's side, not FRS's)."""
    import boto3

    return boto3.client(
        "secretsmanager",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
    )


def _secret(endpoint: S3Endpoint, value: str) -> str:
    name = f"frs-db-{uuid.uuid4().hex[:12]}"
    arn: str = _secrets(endpoint).create_secret(Name=name, SecretString=value)["ARN"]
    return arn


@pytest.fixture
def aws_settings(local_settings: Settings, s3_env: S3Endpoint) -> Settings:
    """FRS's AWS clients pointed at the moto server (it serves Secrets Manager as well as S3)."""
    return dataclasses.replace(local_settings, aws_endpoint_url=s3_env.url, aws_region="us-east-1")


def test_secret_becomes_a_postgres_uri(s3_env: S3Endpoint, aws_settings: Settings) -> None:
    rds = {"username": "frs", "password": "p@ss/w:rd", "host": "db.internal", "port": 5433, "dbname": "faces"}
    uri = f"{SCHEME}{_secret(s3_env, json.dumps(rds))}"
    assert is_postgres_uri(uri)
    assert read_secret_uri(uri, aws_settings) == "postgresql://frs:p%40ss%2Fw%3Ard@db.internal:5433/faces"
    # A Unix-socket directory as host (percent-encoded, as libpq's URI syntax wants it).
    socket = f"{SCHEME}{_secret(s3_env, json.dumps({**rds, 'host': '/run/pg sockets'}))}"
    params = conninfo_to_dict(read_secret_uri(socket, aws_settings))
    assert (params["host"], params["port"], params["user"]) == ("/run/pg sockets", "5433", "frs")
    assert params["password"] == "p@ss/w:rd"


def test_bad_secrets_are_configuration_errors(s3_env: S3Endpoint, aws_settings: Settings) -> None:
    arn = _secret(s3_env, "not json")
    with pytest.raises(FRSError) as caught:
        read_secret_uri(f"{SCHEME}{arn}", aws_settings)
    assert caught.value.code == "storage_misconfigured" and "not json" not in caught.value.message
    with pytest.raises(FRSError) as missing:
        read_secret_uri(f"{SCHEME}arn:aws:secretsmanager:us-east-1:123456789012:secret:nope", aws_settings)
    assert missing.value.code == "storage_misconfigured"


@contextmanager
def password_checked_for(server: PgServer, role: str) -> Iterator[None]:
    """Make the server check ``role``'s password on its socket (pgserver trusts local connections)."""
    hba = server.pgdata / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text(f"local all {role} scram-sha-256\n{original}")  # the first matching line wins
    with psycopg.connect(server.uri, autocommit=True) as admin:
        admin.execute("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        hba.write_text(original)
        with psycopg.connect(server.uri, autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")


def _admin(server: PgServer, statement: sql.Composed) -> None:
    with psycopg.connect(server.uri, autocommit=True) as admin:
        admin.execute(statement)


def _drop_sessions(server: PgServer, role: str) -> None:
    """What an idle timeout, a proxy or a failover does to a warm instance's connection."""
    _admin(
        server,
        sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {}").format(
            sql.Literal(role)
        ),
    )


def test_a_warm_gallery_follows_a_rotated_password(
    s3_env: S3Endpoint, aws_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    server = shared_pg_server()
    role, database = f"frs_rot_{uuid.uuid4().hex[:8]}", f"frs_rot_{uuid.uuid4().hex[:8]}"
    _admin(server, sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'first-pw'").format(sql.Identifier(role)))
    _admin(
        server, sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role))
    )
    with psycopg.connect(server.uri_for(database), autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def rds_secret(password: str) -> str:
        return json.dumps(
            {
                "username": role,
                "password": password,
                "host": str(server.pgdata),
                "port": 5432,
                "dbname": database,
            }
        )

    try:
        with password_checked_for(server, role):
            socket = f"host={server.pgdata} dbname={database} user={role}"
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                psycopg.connect(f"{socket} password=wrong").close()  # the password is really checked

            arn = _secret(s3_env, rds_secret("first-pw"))
            settings = dataclasses.replace(aws_settings, gallery_uri=f"{SCHEME}{arn}")
            gallery = open_gallery("rotating", settings)
            gallery.add_face("A", faces.face("a"), pack=pack)

            # A rotation: the database gets the new password, then the secret (as the rotation Lambda does).
            # The instance's open session survives that; its next connection is the one that must follow.
            _admin(server, sql.SQL("ALTER ROLE {} PASSWORD 'second-pw'").format(sql.Identifier(role)))
            _secrets(s3_env).put_secret_value(SecretId=arn, SecretString=rds_secret("second-pw"))
            _drop_sessions(server, role)
            assert open_gallery("rotating", settings) is gallery  # the same warm object, no new process
            assert gallery.get("A").face_count == 1  # old password refused, secret re-read, reconnected
            assert gallery.add_face("B", faces.face("b"), pack=pack).created

            # A password the secret does not know (yet): a clear configuration error, not a retry loop.
            _admin(server, sql.SQL("ALTER ROLE {} PASSWORD 'third-pw'").format(sql.Identifier(role)))
            _drop_sessions(server, role)
            with pytest.raises(FRSError) as refused:
                gallery.get("A")
            assert refused.value.code == "storage_misconfigured"
            assert "password authentication failed" in refused.value.message
            assert "second-pw" not in refused.value.message and "third-pw" not in refused.value.message
    finally:
        _drop_sessions(server, role)
        _admin(server, sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
        _admin(server, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
