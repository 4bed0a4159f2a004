"""A throwaway PostgreSQL + pgvector server for tests and benchmarks, started with ``pgserver``.

``pgserver`` bundles PostgreSQL 16 and pgvector 0.6 as a wheel, so no Docker or system package is needed.
The server listens on a Unix socket inside its data directory only (no TCP port at all) and trusts local
connections.

PostgreSQL refuses to run as root. When the tests run as root, ``pgserver`` creates an unprivileged system
user ``pgserver`` (``useradd``) and runs ``initdb``/``pg_ctl`` as that user; it also adds ``o+rx`` to the
parents of the data directory so that user can reach it. We therefore keep data directories under ``/tmp``.

Fixtures live in test modules, which import :func:`shared_pg_server`: pytest only honours ``pytest_plugins``
in the rootdir conftest, and a fixture function imported into two modules would start two servers, so the
server itself is a process-wide singleton here.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

with warnings.catch_warnings():
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
    warnings.simplefilter("ignore")
    from pgserver import _commands as pg_commands
    from pgserver.postgres_server import get_server


@dataclass
class PgServer:
    """One running server: its data directory and a ``postgresql://`` URI for the ``postgres`` database."""

    handle: Any  # pgserver.PostgresServer (untyped)
    pgdata: Path

    @property
    def uri(self) -> str:
        return str(self.handle.get_uri())

    def uri_for(self, database: str) -> str:
        return str(self.handle.get_uri(database))

    def create_database(self, prefix: str = "frs_test") -> str:
        """A fresh, empty database with the vector extension; returns its URI."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        uri = self.uri_for(name)
        with psycopg.connect(uri, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return uri

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are terminated)."""
        pg_ctl = getattr(pg_commands, "pg_ctl")  # noqa: B009 - generated at import time, invisible to mypy
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.handle.system_user)

    def start(self) -> None:
        """Start it again after :meth:`stop`, on the same socket."""
        self.handle.ensure_postgres_running()

    def close(self) -> None:
        """Stop the server and delete its data directory."""
        with contextlib.suppress(Exception):
            self.handle.cleanup()
        shutil.rmtree(self.pgdata, ignore_errors=True)


def start_pg_server() -> PgServer:
    """Start a new server in a fresh temporary directory, with ``CREATE EXTENSION vector`` done."""
    # Short path: the Unix socket lives in the data directory and socket paths are limited to ~100 bytes.
    pgdata = Path(tempfile.mkdtemp(prefix="frs-pg-", dir="/tmp"))
    handle = get_server(pgdata, cleanup_mode="delete")
    server = PgServer(handle=handle, pgdata=pgdata)
    with psycopg.connect(server.uri, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return server


_SHARED: PgServer | None = None


def shared_pg_server() -> PgServer:
    """The one server of this test process, started on first use and stopped at interpreter exit."""
    global _SHARED  # noqa: PLW0603 - a process-wide singleton is the point
    if _SHARED is None:
        _SHARED = start_pg_server()
    return _SHARED
