"""The illumination step: a dark frame (night corridor, underexposed camera, IR without its lamp) brightened
for the detector when the first pass found nothing.

``FRS_ILLUMINATION`` (``Settings.illumination``):

- ``off``: the detector sees the decoded pixels only;
- ``detect`` (default): when no face is found and the frame is dark (:func:`is_dark`), the detector looks
  again at :func:`brighten`'s copy. The faces it finds are aligned and embedded from the **original**
  pixels, so the embeddings of found faces, and the calibration records, do not change; a normal photo is
  never touched.

:func:`brighten` lifts the luminance to a mid-grey mean with a gamma curve, then evens out local contrast
(CLAHE on the L channel of Lab), leaving the colours' hue alone.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

OFF = "off"
DETECT = "detect"
MODES = (OFF, DETECT)
#: A frame whose mean luminance (0-255) is below this is dark enough to look at again.
DARK_MEAN = 80.0
#: The mean luminance :func:`brighten` aims for.
TARGET_MEAN = 118.0
_CLAHE_CLIP = 2.0
_CLAHE_TILES = (8, 8)


def luminance(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The frame's luma (0-255), one channel."""
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def is_dark(rgb: npt.NDArray[np.uint8], limit: float = DARK_MEAN) -> bool:
    """Whether the frame's mean luminance is below ``limit``."""
    return float(luminance(rgb).mean()) < limit


def _gamma_for(mean: float) -> float:
    """The gamma that maps a mean luminance ``mean`` to about :data:`TARGET_MEAN` (1: already bright)."""
    low = max(mean, 1.0) / 255.0
    if low >= TARGET_MEAN / 255.0:
        return 1.0
    return float(np.log(TARGET_MEAN / 255.0) / np.log(low))


def brighten(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A brightened copy of ``rgb`` (same shape, uint8): gamma to a mid-grey mean, then CLAHE on L."""
    gamma = _gamma_for(float(luminance(rgb).mean()))
    table = np.clip(255.0 * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)
    lifted = cv2.LUT(rgb, table)
    lab = cv2.cvtColor(lifted, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=_CLAHE_CLIP, tileGridSize=_CLAHE_TILES)
    lab[:, :, 0] = clahe.apply(np.ascontiguousarray(lab[:, :, 0]))
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), dtype=np.uint8)
