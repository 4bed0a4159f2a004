"""``PackInfo``: which model pack produced an embedding (its name and dimension).

The pipeline stamps every embedding with it, galleries refuse to mix packs, and evaluation records it; it
lives with the packs so none of those layers has to import another to name a pack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackInfo:
    """Which model produced the embeddings; a gallery holds vectors of exactly one pack."""

    name: str
    dim: int
