"""Look-alike groups: spherical k-means over embeddings, a stand-in for the demographic groups a dataset does
not label.

Impostor scores are higher between people of one group (same sex, age band, ancestry) than across groups,
and a real gallery with its strangers is usually one such population (a company's staff, a household's
visitors), not a random mix of the world. Calibrating on pairs inside these groups measures that harder case.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def look_alike_groups(
    embeddings: npt.ArrayLike, groups: int, *, seed: int = 0, iterations: int = 50
) -> npt.NDArray[np.int64]:
    """Group number (0..groups-1) of each face by spherical k-means on L2-normalised ``embeddings``.

    Deterministic for a seed; empty clusters keep their previous centre."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if not 1 <= groups <= vectors.shape[0]:
        raise ValueError("groups must be between 1 and the number of faces")
    rng = np.random.default_rng(seed)
    centres = vectors[rng.choice(vectors.shape[0], groups, replace=False)]
    assignment = np.zeros(vectors.shape[0], dtype=np.int64)
    for _ in range(iterations):
        assignment = np.asarray((vectors @ centres.T).argmax(axis=1), dtype=np.int64)
        moved = np.stack(
            [
                vectors[assignment == g].mean(axis=0) if (assignment == g).any() else centres[g]
                for g in range(groups)
            ]
        )
        moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
        if np.allclose(moved, centres):
            break
        centres = moved
    return assignment
