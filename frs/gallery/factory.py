"""Open a gallery by name, choosing the backend from ``Settings.gallery_uri``.

* ``s3://bucket/prefix`` -> the SQLite file ``<prefix>/<gallery>.sqlite`` in S3, cached locally;
* ``postgresql://...`` (or ``postgres://``) -> PostgreSQL + pgvector (:mod:`frs.gallery.pgvector.store`);
* anything else (a path, or a ``file://`` URL) -> the SQLite file ``<dir>/<gallery>.sqlite`` in that
  local directory.

Gallery objects are cached per process and storage settings, so warm Lambda invocations reuse the in-memory
matrix, the cached file and the S3 client or database connections.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from frs import aws
from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.file.transports.local import LocalTransport
from frs.gallery.file.transports.protocol import GALLERY_SUFFIX, Transport
from frs.gallery.file.transports.s3 import S3Transport, parse_s3_uri
from frs.gallery.pgvector.secret import is_secret_uri
from frs.gallery.types import Gallery
from frs.gallery.validation import validate_gallery_name

_galleries: dict[tuple[object, ...], Gallery] = {}
_galleries_lock = threading.Lock()


def is_postgres_uri(uri: str) -> bool:
    """True for the URIs the pgvector backend serves (directly, or through a Secrets Manager secret)."""
    return uri.startswith(("postgresql://", "postgres://")) or is_secret_uri(uri)


def make_transport(uri: str, settings: Settings) -> Transport:
    """The transport for a file-based gallery URI (S3 or a local directory)."""
    if uri.startswith("s3://"):
        bucket, prefix = parse_s3_uri(uri)
        return S3Transport(bucket, prefix, aws.client("s3", settings))
    if uri.startswith("file://"):
        return LocalTransport(Path(unquote(urlparse(uri).path)))
    if "://" in uri:
        raise FRSError(
            "storage_misconfigured",
            f"FRS_GALLERY_URI scheme of {uri.split('://', maxsplit=1)[0]!r} is not supported "
            "(use a directory, file://, s3:// or postgresql://)",
        )
    return LocalTransport(Path(uri))


def cache_root(settings: Settings) -> Path:
    """Where cached copies of file-based galleries live; one sub-directory per gallery URI."""
    digest = hashlib.sha256(settings.gallery_uri.encode("utf-8")).hexdigest()[:16]
    return settings.cache_dir / "galleries" / digest


def _storage_key(settings: Settings) -> tuple[object, ...]:
    """The settings a gallery object depends on (not the pipeline's: a new threshold needs no new gallery)."""
    return (
        settings.gallery_uri,
        settings.cache_dir,
        settings.sync_ttl,
        settings.ann_min_faces,
        settings.pg_ef_search,
        settings.aws_region,
        aws.endpoint_for("s3", settings),
        aws.endpoint_for("secretsmanager", settings),
        settings.s3_max_attempts,
        settings.s3_connect_timeout,
        settings.s3_read_timeout,
    )


def open_gallery(name: str, settings: Settings) -> Gallery:
    """The gallery ``name`` at ``settings.gallery_uri``, reused across calls in this process."""
    name = validate_gallery_name(name)
    key = (*_storage_key(settings), name)
    with _galleries_lock:
        gallery = _galleries.get(key)
        if gallery is None:
            gallery = _create(name, settings)
            _galleries[key] = gallery
        return gallery


def list_galleries(settings: Settings) -> list[str]:
    """Names of the galleries at ``settings.gallery_uri``: the files of a directory or S3 prefix, the
    ``frs.galleries`` rows of a PostgreSQL database (galleries written at least once), in name order."""
    if is_postgres_uri(settings.gallery_uri):
        from frs.gallery.pgvector.store import list_pgvector_galleries  # optional backend, loaded on demand

        return list_pgvector_galleries(settings.gallery_uri, settings)
    keys = make_transport(settings.gallery_uri, settings).list_keys()
    return [k[: -len(GALLERY_SUFFIX)] for k in keys]


def clear_gallery_cache() -> None:
    """Forget every cached gallery object (tests, or after changing settings in a long-lived process)."""
    with _galleries_lock:
        galleries = list(_galleries.values())
        _galleries.clear()
    for gallery in galleries:
        close = getattr(gallery, "close", None)
        if callable(close):
            close()


def _create(name: str, settings: Settings) -> Gallery:
    uri = settings.gallery_uri
    if is_postgres_uri(uri):
        try:
            from frs.gallery.pgvector.store import open_pgvector_gallery  # optional backend, loaded on demand
        except ImportError as exc:
            raise FRSError(
                "storage_misconfigured", f"FRS_GALLERY_URI is PostgreSQL but its backend cannot load: {exc}"
            ) from exc
        return open_pgvector_gallery(uri, name, ef_search=settings.pg_ef_search, settings=settings)
    return SyncedGallery(
        name,
        make_transport(uri, settings),
        cache_root(settings),
        sync_ttl=settings.sync_ttl,
        ann_min_faces=settings.ann_min_faces,
    )
