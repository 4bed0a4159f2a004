"""Galleries: named collections of identities and their face embeddings (never photos).

Top level, shared by every backend:
    ``types``       the storage-neutral :class:`~frs.gallery.types.Gallery` interface and its records
    ``factory``     ``open_gallery``: the backend ``Settings.gallery_uri`` names, cached per process
    ``validation``  what every backend checks first (names, metadata, page size, top_k, embeddings, packs)
    ``paging``      opaque, stable page tokens for listing

Rooms:
    ``file/``       one SQLite file per gallery (``store``), synced to a local directory or S3 (``sync``,
                    ``transports/``), cached on local disk (``diskio``)
    ``search/``     in-memory search over one file version: ``exact`` cosine and ``ann`` (HNSW) for large ones
    ``pgvector/``   PostgreSQL + pgvector: ``store``, ``connection``, ``schema``, ``search``, ``secret``
"""
