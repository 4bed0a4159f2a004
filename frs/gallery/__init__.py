"""Galleries: named collections of identities and their face embeddings.

``types`` defines the storage-neutral interface; backends (SQLite file synced to a local directory or S3,
PostgreSQL + pgvector) implement it, and ``open_gallery`` picks one from a URI.
"""
