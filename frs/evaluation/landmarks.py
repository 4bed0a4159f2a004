"""How far one detector's five landmarks sit from another's on the same faces, and the alignment template
that maps the first onto where the recognizer expects the second's.

Errors are measured in each face's own frame (x along the reference's eye line, y down the face) and divided
by the reference's inter-ocular distance (IOD), so faces of every size and roll count alike. The mean error
per landmark is the detector's *bias* (its landmark convention); what is left after removing it is *noise*.

:func:`fit_template` gives, in the recognizer's 112x112 crop, the mean position of a detector's landmarks
when the crop is aligned on the reference's: a pack manifest's ``detector.landmark_template``, so the
similarity transform cancels the bias instead of tilting or scaling every crop by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.pipeline.align import ARCFACE_TEMPLATE, similarity_transform

LANDMARKS = ("left eye", "right eye", "nose", "left mouth corner", "right mouth corner")
Points = npt.NDArray[np.float64]  # (faces, 5, 2)


def _as_points(values: npt.ArrayLike) -> Points:
    points = np.asarray(values, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (5, 2):
        raise ValueError("landmarks must be (faces, 5, 2)")
    return points


def face_frame_errors(candidate: npt.ArrayLike, reference: npt.ArrayLike) -> tuple[Points, Points]:
    """(errors, iod): ``candidate - reference`` per face and landmark in the reference's face frame, in IODs
    (faces, 5, 2), and each face's IOD in pixels (faces,)."""
    cand, ref = _as_points(candidate), _as_points(reference)
    if cand.shape != ref.shape:
        raise ValueError("candidate and reference need the same faces")
    eye_line = ref[:, 1] - ref[:, 0]
    iod = np.linalg.norm(eye_line, axis=1)
    if (iod <= 0).any():
        raise ValueError("a reference face has both eyes at one point")
    cos, sin = (eye_line / iod[:, None]).T
    rotation = np.stack([np.stack([cos, sin], axis=1), np.stack([-sin, cos], axis=1)], axis=1)
    errors = np.einsum("fij,fkj->fki", rotation, cand - ref) / iod[:, None, None]
    return errors, iod


def _share(values: npt.NDArray[np.float64]) -> dict[str, float]:
    return {
        "mean": float(values.mean()),
        "median": float(np.median(values)),
        "p90": float(np.percentile(values, 90)),
        "p99": float(np.percentile(values, 99)),
    }


def error_summary(errors: Points, iod: npt.ArrayLike, *, size_bins: int = 4) -> dict[str, Any]:
    """Bias (mean error) and the spread of the error per landmark, the normalised mean error (NME: mean
    landmark distance per face, in IODs) before and after removing the bias, and NME by face-size bin."""
    sizes = np.asarray(iod, dtype=np.float64).reshape(-1)
    bias = errors.mean(axis=0)
    distance = np.linalg.norm(errors, axis=2)
    residual = np.linalg.norm(errors - bias, axis=2)
    edges = np.percentile(sizes, np.linspace(0, 100, size_bins + 1))
    bins = []
    for low, high in pairwise(edges):
        inside = (sizes >= low) & (sizes <= high)
        bins.append(
            {
                "iod_px": [float(low), float(high)],
                "faces": int(inside.sum()),
                "nme": float(distance[inside].mean()),
                "nme_without_bias": float(residual[inside].mean()),
            }
        )
    return {
        "faces": int(errors.shape[0]),
        "iod_px_median": float(np.median(sizes)),
        "landmarks": [
            {
                "name": name,
                "bias": [float(bias[k, 0]), float(bias[k, 1])],
                "std": [float(errors[:, k, 0].std()), float(errors[:, k, 1].std())],
                "error": _share(distance[:, k]),
                "error_without_bias": float(residual[:, k].mean()),
            }
            for k, name in enumerate(LANDMARKS)
        ],
        "nme": _share(distance.mean(axis=1)),
        "nme_without_bias": float(residual.mean()),
        "by_face_size": bins,
    }


def fit_template(
    candidate: npt.ArrayLike, reference: npt.ArrayLike, template: Sequence[Sequence[float]] | None = None
) -> Points:
    """Where ``candidate``'s landmarks sit, on average, in the crop that aligns ``reference``'s onto
    ``template`` (default: ArcFace's 112x112): the template to align the candidate detector's landmarks to."""
    cand, ref = _as_points(candidate), _as_points(reference)
    target = ARCFACE_TEMPLATE if template is None else np.asarray(template, dtype=np.float64)
    placed = []
    for face, base in zip(cand, ref, strict=True):
        matrix = similarity_transform(base, target)
        placed.append(face @ matrix[:, :2].T + matrix[:, 2])
    fitted: Points = np.mean(placed, axis=0)
    return fitted
