"""File galleries: one SQLite file per gallery, shared through a transport (local directory or S3), cached.

``store`` is the file itself (schema, queries, mutations), ``sync`` the :class:`~frs.gallery.types.Gallery`
that keeps a local copy current and writes with compare-and-swap, ``transports`` where the shared file lives,
``diskio`` the durable local writes they all share.
"""
