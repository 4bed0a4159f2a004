"""5-point face alignment to the ArcFace 112x112 template with a least-squares similarity transform."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

# Where the eyes, nose tip and mouth corners sit in a 112x112 ArcFace crop (InsightFace's published template).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(
    source: npt.NDArray[np.floating], target: npt.NDArray[np.floating]
) -> npt.NDArray[np.float64]:
    """The 2x3 similarity (rotation, scale, shift) best mapping ``source`` onto ``target`` (Umeyama)."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # forbid reflections
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float(np.trace(np.diag(singular) @ sign) / variance) if variance > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(
    rgb: npt.NDArray[np.uint8],
    landmarks: npt.NDArray[np.floating],
    size: tuple[int, int],
    template: npt.ArrayLike | None = None,
) -> npt.NDArray[np.uint8]:
    """Warp the face with ``landmarks`` (5x2, image pixels) into a ``size`` (w, h) aligned crop, mapping them
    onto ``template`` (5x2, in a 112x112 crop; default the ArcFace template)."""
    width, height = size
    points = ARCFACE_TEMPLATE if template is None else np.asarray(template, dtype=np.float64).reshape(5, 2)
    target = points * (width / 112.0)
    if height != width:
        target = target + np.array([0.0, (height - width) / 2.0])
    matrix = similarity_transform(landmarks, target)
    warped = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return np.asarray(warped, dtype=np.uint8)
