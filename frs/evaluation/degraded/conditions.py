"""The degraded copies: each condition maps a photo's RGB pixels to what a poor camera would have sent.

Noise is seeded by the condition and a per-photo key, so a run repeats exactly.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Condition:
    name: str
    brightness: float = 1.0  # pixel values multiplied by this
    gamma: float = 1.0  # then v -> 255 * (v / 255) ** gamma (> 1 darkens mid-tones)
    contrast: float = 1.0  # then pulled towards the photo's mean by this factor
    grayscale: bool = False  # then one channel (what an IR camera writes)
    noise_sigma: float = 0.0  # then gaussian noise, in pixel values

    def apply(self, rgb: Pixels, key: str) -> Pixels:
        """The degraded copy of ``rgb`` (uint8; H x W x 3, or H x W when ``grayscale``)."""
        image = rgb.astype(np.float32)
        if self.grayscale:
            image = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.float32)
        image *= self.brightness
        if self.gamma != 1.0:
            image = 255.0 * (np.clip(image, 0, 255) / 255.0) ** self.gamma
        if self.contrast != 1.0:
            image = image.mean() + (image - image.mean()) * self.contrast
        if self.noise_sigma:
            rng = np.random.default_rng([zlib.crc32(self.name.encode()), zlib.crc32(key.encode())])
            image = image + rng.normal(0.0, self.noise_sigma, image.shape).astype(np.float32)
        return np.clip(np.rint(image), 0, 255).astype(np.uint8)


CLEAN = Condition("clean")
#: The suite's conditions, in the table's order.
CONDITIONS: tuple[Condition, ...] = (
    CLEAN,
    Condition("brightness x0.5", brightness=0.5),
    Condition("brightness x0.25", brightness=0.25),
    Condition("brightness x0.1", brightness=0.1),
    Condition("brightness x0.05", brightness=0.05),
    Condition("gamma 2.2", gamma=2.2),
    Condition("gamma 3.0", gamma=3.0),
    Condition("contrast x0.3", contrast=0.3),
    Condition("grayscale", grayscale=True),
    Condition("noise sigma 10", noise_sigma=10.0),
    Condition("noise sigma 25", noise_sigma=25.0),
    Condition("night: x0.25 + noise 10", brightness=0.25, noise_sigma=10.0),
    Condition("night: x0.1 + noise 10", brightness=0.1, noise_sigma=10.0),
    Condition("night IR: gray x0.25 + noise 10", brightness=0.25, grayscale=True, noise_sigma=10.0),
)


def by_name(names: str) -> tuple[Condition, ...]:
    """``"clean,grayscale"`` -> those conditions (ValueError naming an unknown one)."""
    known = {c.name: c for c in CONDITIONS}
    chosen = []
    for raw in names.split(","):
        name = raw.strip()
        if name not in known:
            raise ValueError(f"unknown condition {name!r}; known: {', '.join(known)}")
        chosen.append(known[name])
    return tuple(chosen)


def encode_jpeg(pixels: Pixels, quality: int = 95) -> bytes:
    """``pixels`` (RGB or one channel) as JPEG bytes, as a camera would send them."""
    bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if pixels.ndim == 3 else pixels
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def read_rgb(data: bytes) -> Pixels:
    """A photo's bytes as RGB pixels (the dataset's JPEGs)."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not an image OpenCV can read")
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


Degrade = Callable[[bytes, str], bytes]


def degrade(condition: Condition, data: bytes, key: str) -> bytes:
    """The photo ``data`` under ``condition``, as JPEG bytes (the clean condition returns ``data`` itself)."""
    if condition == CLEAN:
        return data
    return encode_jpeg(condition.apply(read_rgb(data), key))
