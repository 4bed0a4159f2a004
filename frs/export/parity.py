"""Does the ONNX file compute what the PyTorch model computes? Measured on aligned-crop-like inputs.

Inputs are smooth random 112x112 colour images (random low-resolution colour fields scaled up, plus pixel
noise), preprocessed exactly as the pack manifest says, so activations stay in the range real crops produce.
The verdict is taken on L2-normalised embeddings, which is all FRS ever stores or compares; raw figures are
reported alongside.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import torch
from torch import nn

from frs.errors import FRSError
from frs.export.spec import INPUT_NAME, INPUT_SIZE, OUTPUT_NAME, Preprocessing

MAX_ABS_DIFF = 1e-4
MIN_COSINE = 0.9999


@dataclass(frozen=True)
class ParityReport:
    batch: int
    max_abs_diff: float  # L2-normalised embeddings: the verdict
    min_cosine: float
    raw_max_abs_diff: float  # the networks' raw outputs, for information
    raw_max_abs: float  # largest raw output value, to put the raw difference in scale

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= MAX_ABS_DIFF and self.min_cosine >= MIN_COSINE

    def summary(self) -> str:
        return (
            f"parity (batch {self.batch}): max |diff| {self.max_abs_diff:.2e} (limit {MAX_ABS_DIFF:.0e}), "
            f"min cosine {self.min_cosine:.8f} (limit {MIN_COSINE}), "
            f"raw max |diff| {self.raw_max_abs_diff:.2e} on values up to {self.raw_max_abs:.3g}"
        )

    def to_dict(self) -> dict[str, float | int | bool]:
        return {**asdict(self), "passed": self.passed}


def crop_like_images(count: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    """``count`` smooth random 112x112 images (N, H, W, 3) uint8: no faces, but natural-image statistics."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        coarse = rng.uniform(0, 255, size=(8, 8, 3)).astype(np.float32)
        smooth = cv2.resize(coarse, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_CUBIC)
        noisy = smooth + rng.normal(0.0, 8.0, size=(INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)
        images.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return np.stack(images)


def network_input(images: npt.NDArray[np.uint8], preprocessing: Preprocessing) -> npt.NDArray[np.float32]:
    """RGB uint8 (N, H, W, 3) -> NCHW float32 as the manifest prescribes (colour order, mean, std)."""
    pixels = images if preprocessing.color == "RGB" else images[..., ::-1]
    mean = np.asarray(preprocessing.mean, dtype=np.float32)
    std = np.asarray(preprocessing.std, dtype=np.float32)
    blob = (pixels.astype(np.float32) - mean) / std
    return np.ascontiguousarray(blob.transpose(0, 3, 1, 2))


def _normalised(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = vectors / np.maximum(norms, 1e-12)
    return unit


def check_parity(
    model: nn.Module, onnx_path: Path, preprocessing: Preprocessing, batch: int = 4, threads: int = 1
) -> ParityReport:
    """Run ``model`` and the ONNX file on one ``batch`` of crop-like inputs and compare the embeddings."""
    blob = network_input(crop_like_images(batch), preprocessing)
    with torch.inference_mode():
        expected = model(torch.from_numpy(blob)).numpy().astype(np.float64)
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.log_severity_level = 3
    session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
    actual = np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: blob})[0], dtype=np.float64)
    if actual.shape != expected.shape:
        raise FRSError(
            "internal_error", f"ONNX output shape {actual.shape} differs from PyTorch's {expected.shape}"
        )
    if not (np.isfinite(actual).all() and np.isfinite(expected).all()):
        # NaN compares false with every limit: report it as an infinitely bad match.
        return ParityReport(batch, float("inf"), float("-inf"), float("inf"), float("nan"))
    unit_expected, unit_actual = _normalised(expected), _normalised(actual)
    return ParityReport(
        batch=batch,
        max_abs_diff=float(np.abs(unit_actual - unit_expected).max()),
        min_cosine=float(np.sum(unit_actual * unit_expected, axis=1).min()),
        raw_max_abs_diff=float(np.abs(actual - expected).max()),
        raw_max_abs=float(np.abs(expected).max()),
    )
