"""Network input tensors: colour order, mean and std exactly as the manifest says."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from frs.packs.manifest import ModelFile
from frs.pipeline.preprocess import to_nchw

SPEC = ModelFile(
    file="m.onnx",
    sha256=None,
    artifact=None,
    member=None,
    input_size=(4, 3),
    mean=(0.0, 0.0, 0.0),
    std=(1.0, 1.0, 1.0),
    color="RGB",
    licence="",
)


@pytest.mark.parametrize(
    ("color", "mean", "std"),
    [
        ("RGB", (0.0,) * 3, (1.0,) * 3),
        ("BGR", (0.0,) * 3, (1.0,) * 3),
        ("RGB", (127.5,) * 3, (128.0,) * 3),
        ("BGR", (1.0, 2.0, 3.0), (4.0, 5.0, 6.0)),
    ],
)
def test_matches_the_textbook_formula(
    color: str, mean: tuple[float, float, float], std: tuple[float, float, float]
) -> None:
    images = np.random.default_rng(0).integers(0, 256, (2, 3, 4, 3), dtype=np.uint8)
    spec = dataclasses.replace(SPEC, color=color, mean=mean, std=std)
    ordered = images if color == "RGB" else images[..., ::-1]
    shift, scale = np.asarray(mean, dtype=np.float32), np.asarray(std, dtype=np.float32)
    expected = ((ordered.astype(np.float32) - shift) / scale).transpose(0, 3, 1, 2)
    blob = to_nchw(images, spec)
    assert blob.shape == (2, 3, 3, 4) and blob.dtype == np.float32 and blob.flags.c_contiguous
    assert np.allclose(blob, expected, atol=1e-6)
    if color == "BGR":  # channel 0 of the tensor is the image's blue channel
        assert np.array_equal(
            to_nchw(images, dataclasses.replace(spec, mean=(0.0,) * 3, std=(1.0,) * 3))[:, 0],
            images[..., 2].astype(np.float32),
        )
