"""The in-memory matcher against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from frs.gallery.search.exact import Matcher
from frs.gallery.search.matrix import MatrixData


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    normalised: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normalised


def build(rng: np.random.Generator, face_counts: list[int], dim: int) -> tuple[Matcher, list[np.ndarray]]:
    per_identity = [unit_rows(rng, count, dim) for count in face_counts]
    starts = np.cumsum([0, *face_counts[:-1]])
    data = MatrixData(
        embeddings=np.concatenate(per_identity),
        starts=starts.astype(np.int64),
        names=[f"id-{i}" for i in range(len(face_counts))],
    )
    return Matcher(data), per_identity


def brute_force(queries: np.ndarray, per_identity: list[np.ndarray], k: int) -> list[list[tuple[str, float]]]:
    out = []
    for q in queries.astype(np.float64):
        scores = [
            (f"id-{i}", float((faces.astype(np.float64) @ q).max())) for i, faces in enumerate(per_identity)
        ]
        scores.sort(key=lambda item: -item[1])
        out.append(scores[:k])
    return out


@pytest.mark.parametrize("n_queries", [1, 3, 9])  # both the row-wise and the matrix-product paths
@pytest.mark.parametrize("one_face_each", [True, False])
def test_matches_brute_force(n_queries: int, one_face_each: bool) -> None:
    rng = np.random.default_rng(7)
    counts = [1] * 300 if one_face_each else list(rng.integers(1, 5, size=300))
    matcher, per_identity = build(rng, counts, 32)
    queries = unit_rows(rng, n_queries, 32)
    got = matcher.search(queries, top_k=10)
    expected = brute_force(queries, per_identity, 10)
    for got_row, expected_row in zip(got, expected, strict=True):
        assert [c.name for c in got_row] == [name for name, _ in expected_row]
        assert [c.similarity for c in got_row] == pytest.approx([s for _, s in expected_row], abs=1e-5)


def test_identity_score_is_max_over_its_faces() -> None:
    rng = np.random.default_rng(3)
    matcher, per_identity = build(rng, [3, 1, 4], 16)
    query = per_identity[2][3]  # exactly one of identity 2's faces
    best = matcher.search(query[None, :], top_k=1)[0][0]
    assert best.name == "id-2" and best.similarity == pytest.approx(1.0, abs=1e-6)


def test_top_k_larger_than_gallery_and_empty_gallery() -> None:
    rng = np.random.default_rng(1)
    matcher, _ = build(rng, [2, 2], 8)
    result = matcher.search(unit_rows(rng, 2, 8), top_k=50)
    assert [len(r) for r in result] == [2, 2]
    assert result[0][0].similarity >= result[0][1].similarity
    empty = Matcher(MatrixData(np.zeros((0, 8), np.float32), np.zeros(0, np.int64), []))
    assert empty.search(unit_rows(rng, 3, 8), top_k=5) == [[], [], []]


def test_ties_are_broken_by_gallery_order() -> None:
    vector = np.eye(4, dtype=np.float32)[0]
    data = MatrixData(np.stack([vector, vector, vector]), np.arange(3, dtype=np.int64), ["c", "a", "b"])
    assert [c.name for c in Matcher(data).search(vector[None, :], top_k=2)[0]] == ["c", "a"]


def test_matcher_reports_its_memory() -> None:
    rng = np.random.default_rng(1)
    matcher, _ = build(rng, [1] * 100, 64)
    assert matcher.nbytes() >= 100 * 64 * 4
    assert (matcher.identity_count, matcher.face_count) == (100, 100)
