"""``MatrixData``: what every matcher searches, one gallery version's embeddings grouped by identity.

Search owns this shape; a store produces it (``GalleryDB.load_matrix``) without search ever reading a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from frs.gallery.types import Embedding


@dataclass(frozen=True)
class MatrixData:
    """All embeddings of a gallery, grouped by identity (rows of one identity are contiguous)."""

    embeddings: Embedding  # (n_faces, dim) float32
    starts: np.ndarray[Any, np.dtype[np.int64]]  # first row of each identity, ascending
    names: list[str]  # identity name per group
