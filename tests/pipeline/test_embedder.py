"""The recognizer (frs.pipeline.embedder) on the shipped packs' real weights and aligned test photos."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from frs.config import Settings
from frs.pipeline.align import align_face
from frs.pipeline.analyzer import load_analyzer
from frs.pipeline.embedder import Embedder

PHOTOS = ("person_a_1.jpg", "person_b_1.jpg", "impostor_1.jpg")


@pytest.fixture(scope="module")
def crops_and_embedder(pack_settings: Settings, testdata: Path) -> tuple[npt.NDArray[np.uint8], Embedder]:
    analyzer = load_analyzer(pack_settings)
    size = analyzer.manifest.recognizer.input_size
    crops = []
    for name in PHOTOS:
        rgb = analyzer.decode((testdata / name).read_bytes()).rgb
        detection = analyzer.detector.detect(rgb, analyzer.det_threshold)[0]
        crops.append(align_face(rgb, detection.landmarks, size, analyzer.manifest.detector.landmark_template))
    return np.stack(crops), analyzer.embedder


def _flipping(embedder: Embedder) -> Embedder:
    return Embedder(embedder.session, dataclasses.replace(embedder.spec, flip=True))


def test_flip_averages_the_crop_and_its_mirror(
    crops_and_embedder: tuple[npt.NDArray[np.uint8], Embedder],
) -> None:
    crops, plain = crops_and_embedder
    flipped = _flipping(plain).embed(crops)
    expected = plain.embed(crops) + plain.embed(np.ascontiguousarray(crops[:, :, ::-1]))
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert flipped.shape == (len(crops), plain.spec.dim)
    np.testing.assert_allclose(np.linalg.norm(flipped, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(flipped, expected, atol=1e-4)


def test_flip_makes_the_embedding_blind_to_a_mirrored_photo(
    crops_and_embedder: tuple[npt.NDArray[np.uint8], Embedder],
) -> None:
    crops, plain = crops_and_embedder
    mirrored = np.ascontiguousarray(crops[:, :, ::-1])
    plain_self = np.sum(plain.embed(crops) * plain.embed(mirrored), axis=1)
    flipping = _flipping(plain)
    flip_self = np.sum(flipping.embed(crops) * flipping.embed(mirrored), axis=1)
    # Without the flip a mirrored photo is a measurably different face; with it, the same one.
    assert np.all(plain_self < 0.999)
    np.testing.assert_allclose(flip_self, 1.0, atol=1e-4)


def test_no_crops_no_embeddings(crops_and_embedder: tuple[npt.NDArray[np.uint8], Embedder]) -> None:
    _, plain = crops_and_embedder
    empty = np.zeros((0, 112, 112, 3), dtype=np.uint8)
    assert _flipping(plain).embed(empty).shape == (0, plain.spec.dim)
