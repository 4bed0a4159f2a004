"""Searching one gallery version held in memory: exact cosine (``exact``) or through an HNSW index (``ann``).

``matrix`` defines the data every matcher searches; the stores produce it, search never reads a store.
"""
