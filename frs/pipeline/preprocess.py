"""uint8 images -> the float NCHW tensor a network wants, as its manifest says (colour order, mean, std)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from frs.packs.manifest import ModelFile


def to_nchw(images: npt.NDArray[np.uint8], spec: ModelFile) -> npt.NDArray[np.float32]:
    """``images`` (N, H, W, 3) RGB uint8 -> (N, 3, H, W) float32 in the manifest's colour order and scale."""
    ordered = images if spec.color == "RGB" else images[..., ::-1]
    blob = np.empty((images.shape[0], 3, images.shape[1], images.shape[2]), dtype=np.float32)
    # One strided, converting copy: ~25x cheaper than astype + arithmetic + transpose + a contiguous copy.
    blob[...] = ordered.transpose(0, 3, 1, 2)
    mean = np.asarray(spec.mean, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(spec.std, dtype=np.float32).reshape(1, 3, 1, 1)
    if mean.any():
        blob -= mean
    if (std != 1.0).any():
        blob /= std
    return blob
