"""PostgreSQL connections for the pgvector gallery: one cached per URI, re-established once when dropped.

A Lambda container serves many invocations in a row, so the connection outlives one request; the database
(or a proxy, or a failover) may close it while the container is frozen. :meth:`Database.run` therefore
runs each unit of work in its own transaction and, when the connection turns out to be dead, reconnects and
runs it once more; a second failure becomes ``storage_unavailable``. Driver errors never escape as tracebacks
and never carry the password of the URI.

Credentials can change under a running instance (Secrets Manager rotation): when the server rejects the
password while connecting, the URI's source (:mod:`frs.gallery.pgvector.secret`) is read again and, if it
changed, the connection is tried once more with the new credentials.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import numpy as np
import psycopg
import psycopg.errors
from psycopg.adapt import Dumper, Loader
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import Format
from psycopg.types import TypeInfo

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.pgvector.secret import FixedUri, SecretUri, is_secret_uri
from frs.gallery.types import Embedding

T = TypeVar("T")
Connection = psycopg.Connection[tuple[Any, ...]]

# Applied unless the URI sets them: fail fast instead of hanging a Lambda invocation on a dead network path.
_DEFAULT_PARAMS = {
    "connect_timeout": "5",
    "application_name": "frs",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}

# Server messages at connect time that mean "fix the configuration", not "try again later". libpq reports them
# without a SQLSTATE, so the text is all there is.
_MISCONFIG_HINTS = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # role or database
    "permission denied",
    "does not support ssl",
    "ssl is not enabled",
    "sslmode",
    "no password supplied",
)
# ... of which these mean "these credentials are not (or no longer) valid": worth re-reading the secret.
_REJECTED_CREDENTIALS = ("password authentication failed", "authentication failed", "no password supplied")


class UriSource(Protocol):
    """Where a database URI comes from: given directly, or read from a secret that may be rotated."""

    def current(self) -> str:
        """The URI to connect with."""
        ...

    def refresh(self) -> bool:
        """Read the URI again; True if it changed."""
        ...


class _CredentialsRejected(Exception):  # noqa: N818 - internal signal, carries the error to raise
    def __init__(self, error: FRSError) -> None:
        super().__init__(error.message)
        self.error = error


class PgVector:
    """An embedding on its way to a ``vector`` parameter (binary wire format, exact float32)."""

    __slots__ = ("values",)

    def __init__(self, values: Embedding) -> None:
        self.values = values


def _vector_dumper(vector_oid: int) -> type[Dumper]:
    class VectorDumper(Dumper):
        format = Format.BINARY
        oid = vector_oid  # a class attribute, so binary COPY can find the dumper by type too

        def dump(self, obj: Any) -> bytes:
            values = np.ascontiguousarray(obj.values, dtype=">f4")
            # pgvector's binary layout: int16 dim, int16 unused (0), dim x float4, all big-endian.
            return struct.pack(">HH", values.shape[0], 0) + values.tobytes()

    return VectorDumper


class _VectorBinaryLoader(Loader):
    format = Format.BINARY

    def load(self, data: Any) -> Embedding:
        dim = struct.unpack_from(">H", data)[0]
        return np.frombuffer(bytes(data), dtype=">f4", count=dim, offset=4).astype(np.float32)


class _VectorTextLoader(Loader):
    def load(self, data: Any) -> Embedding:
        # pgvector prints the shortest decimal that reads back as the same float4: exact.
        return np.array(bytes(data).decode("ascii")[1:-1].split(","), dtype=np.float32)


def register_vector(conn: Connection) -> bool:
    """Teach ``conn`` to send :class:`PgVector` and read vectors as float32 arrays; False while the
    extension is not installed yet."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        return False
    info.register(conn)  # the name, for COPY ... set_types(["vector", ...])
    conn.adapters.register_dumper(PgVector, _vector_dumper(info.oid))
    conn.adapters.register_loader(info.oid, _VectorBinaryLoader)
    conn.adapters.register_loader(info.oid, _VectorTextLoader)
    return True


def redact_uri(uri: str) -> str:
    """The URI without its password (or anything else secret), for messages and logs."""
    try:
        params = conninfo_to_dict(uri)
    except psycopg.Error:
        return "postgresql://<unparseable URI>"
    user = params.get("user")
    host = str(params.get("host") or "")
    port = params.get("port")
    dbname = params.get("dbname") or ""
    netloc = f"{user}@" if user else ""
    if host.startswith("/"):
        return f"postgresql://{netloc}/{dbname}?host={host}"
    return f"postgresql://{netloc}{host}{f':{port}' if port else ''}/{dbname}"


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


class Database:
    """One PostgreSQL endpoint: a lazily opened, reusable connection plus the retry policy around it."""

    def __init__(self, source: UriSource | str) -> None:
        self._source: UriSource = FixedUri(source) if isinstance(source, str) else source
        self._adopt(self._source.current())
        self._conn: Connection | None = None
        self._pid = os.getpid()
        self._lock = threading.RLock()
        #: Set by the schema layer once migrations are known to be applied on this endpoint.
        self.schema_ready = False
        self._in_snapshot = False

    def _adopt(self, uri: str) -> None:
        """Use ``uri`` from now on (at construction, and after the credentials were rotated)."""
        try:
            params = conninfo_to_dict(uri)
        except psycopg.Error as exc:
            raise FRSError("storage_misconfigured", f"invalid PostgreSQL URI: {exc}") from None
        self.uri = uri
        self.safe_uri = redact_uri(uri)
        self._password = str(params["password"]) if params.get("password") else None
        self._extra = {k: v for k, v in _DEFAULT_PARAMS.items() if k not in params}

    # -- connection lifecycle -------------------------------------------------------------------------------

    def _connect(self) -> Connection:
        """A new connection; when the password is rejected, once more with freshly read credentials."""
        try:
            return self._open()
        except _CredentialsRejected as rejected:
            if not self._source.refresh():
                raise rejected.error from None
        self._adopt(self._source.current())
        try:
            return self._open()
        except _CredentialsRejected as rejected:
            raise rejected.error from None

    def _open(self) -> Connection:
        try:
            conn = psycopg.connect(make_conninfo(self.uri, **self._extra), autocommit=True)
        except psycopg.OperationalError as exc:
            detail = _scrub(str(exc).strip(), self._password)
            lowered = detail.lower()
            if any(hint in lowered for hint in _MISCONFIG_HINTS):
                error = FRSError(
                    "storage_misconfigured", f"PostgreSQL at {self.safe_uri} refused the connection: {detail}"
                )
                if any(hint in lowered for hint in _REJECTED_CREDENTIALS):
                    raise _CredentialsRejected(error) from None
                raise error from None
            raise FRSError(
                "storage_unavailable", f"cannot connect to PostgreSQL at {self.safe_uri}: {detail}"
            ) from None
        except psycopg.Error as exc:
            raise FRSError(
                "storage_misconfigured",
                f"cannot use PostgreSQL URI {self.safe_uri}: {_scrub(str(exc), self._password)}",
            ) from None
        # No server-side prepared statements: they break behind PgBouncer in transaction mode and pin
        # sessions in RDS Proxy, the usual way Lambda reaches Aurora; parsing our few queries is cheap.
        conn.prepare_threshold = None
        try:
            register_vector(conn)
        except psycopg.Error as exc:
            conn.close()
            raise FRSError(
                "storage_unavailable",
                f"PostgreSQL at {self.safe_uri} failed right after connecting: "
                f"{_scrub(str(exc).strip(), self._password)}",
            ) from None
        return conn

    def _connection(self) -> Connection:
        if self._pid != os.getpid():
            # A forked child must not use (or close) the parent's socket; psycopg skips the close in a child.
            self._conn = None
            self._pid = os.getpid()
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and not self._conn.closed:
                self._conn.close()
            self._conn = None

    # -- running work ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every :meth:`run` inside (this thread holds the connection meanwhile) shares one ``REPEATABLE READ,
        READ ONLY`` transaction, so a long read (an export) sees the database as of its first query, however
        it is written meanwhile. A connection lost inside is ``storage_unavailable``, not retried: a new
        connection would no longer see the same moment."""
        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    self._in_snapshot = True
                    try:
                        yield
                    finally:
                        self._in_snapshot = False
            except psycopg.Error as exc:
                if conn.closed:
                    self._conn = None
                raise self._translate(exc) from None

    def run(self, work: Callable[[Connection], T], *, transaction: bool = True) -> T:
        """Run ``work`` inside one transaction; reconnect and retry once if the connection was lost.
        ``transaction=False`` runs it in autocommit mode instead, for the statements PostgreSQL refuses
        inside a transaction (``CREATE INDEX CONCURRENTLY``).

        A deadlock or serialization failure is also retried once. FRSError raised by ``work`` rolls the
        transaction back and propagates unchanged. If the connection dies during COMMIT, the first attempt
        may have been committed; the retry is still safe because every write is idempotent or checked
        (a re-add then reports ``created=False``, a repeated delete ``not_found``).
        """
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    with conn.transaction() if transaction else contextlib.nullcontext():
                        return work(conn)
                except psycopg.errors.TransactionRollback as exc:
                    if attempt == 2:
                        raise FRSError(
                            "conflict", f"concurrent update, please retry ({exc.sqlstate})"
                        ) from None
                except psycopg.OperationalError as exc:
                    if not conn.closed or self._in_snapshot:
                        raise self._translate(exc) from None
                    self._conn = None
                    if attempt == 2:
                        raise FRSError(
                            "storage_unavailable",
                            f"lost the connection to PostgreSQL at {self.safe_uri} twice: "
                            f"{_scrub(str(exc).strip(), self._password)}",
                        ) from None
                except psycopg.Error as exc:
                    if conn.closed:
                        self._conn = None
                    raise self._translate(exc) from None
            raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, exc: psycopg.Error) -> FRSError:
        detail = _scrub(str(exc).strip(), self._password)
        where = f"PostgreSQL at {self.safe_uri}"
        if isinstance(exc, psycopg.errors.InsufficientPrivilege | psycopg.errors.UndefinedObject):
            return FRSError("storage_misconfigured", f"{where}: {detail}")
        if isinstance(exc, psycopg.errors.DiskFull | psycopg.errors.OutOfMemory):
            return FRSError("insufficient_storage", f"{where}: {detail}")
        if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.CannotConnectNow):
            return FRSError("storage_unavailable", f"{where}: {detail}")
        if isinstance(exc, psycopg.OperationalError):
            return FRSError("storage_unavailable", f"{where}: {detail}")
        return FRSError("internal_error", f"{where} failed ({exc.sqlstate or type(exc).__name__}): {detail}")


_DATABASES: dict[str, Database] = {}
_DATABASES_LOCK = threading.Lock()


def database_for(uri: str, settings: Settings | None = None) -> Database:
    """The cached :class:`Database` for ``uri`` (``postgresql://`` or a secret URI, which reads the secret
    with ``settings``' AWS client): warm invocations reuse the same connection."""
    with _DATABASES_LOCK:
        db = _DATABASES.get(uri)
        if db is None:
            source = SecretUri(uri, settings or Settings()) if is_secret_uri(uri) else FixedUri(uri)
            db = Database(source)
            _DATABASES[uri] = db
        return db
