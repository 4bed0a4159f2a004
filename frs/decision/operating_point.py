"""Operating points in plain terms: a target error rate in, a similarity threshold out.

Open-set identification (1:N): a stranger is wrongly named when the best of their comparisons with the
gallery's ``N`` enrolled faces reaches the threshold. With independent comparisons,
``FPIR(t, N) = 1 - (1 - FMR(t)) ** N``, so the per-comparison rate to aim for is
``FMR = 1 - (1 - target_fpir) ** (1 / N)`` (about ``target_fpir / N``): the threshold rises with the gallery.
``N`` counts enrolled **faces**, not identities: FRS scores an identity by its best face, and the research
note measured that each extra photo of a person gives a stranger almost one more chance (lfw-dev, 52 people
with 133 photos: strangers passed as often as the model predicts for ~110 independent comparisons, against 133
for faces and 52 for identities). Counting faces is therefore the slightly conservative choice. The model
itself held within 10% of measured FPIR for galleries of 1 to 300 whenever FPIR was below 10%.
Verification (1:1) is one comparison: ``FMR = target_far``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from frs.decision.calibration import Calibration
from frs.errors import FRSError


@dataclass(frozen=True)
class OperatingPoint:
    """What a decision used, for the answer to say: the threshold and the rates it stands for."""

    threshold: float
    target: float | None  # the requested FPIR (identify) or FAR (verify); None for a fixed threshold
    kind: str  # "fpir" (identify) or "far" (verify)
    gallery_size: int  # enrolled faces the FPIR accounts for (1 for verify)
    false_match_rate: float | None  # per-comparison rate at the threshold; None without a calibration
    source: str = "calibrated"  # "calibrated", "explicit" (the caller's threshold) or "pack_default"

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "threshold": round(self.threshold, 4),
            "source": self.source,
            "gallery_size": self.gallery_size,
        }
        if self.target is not None:
            body[f"target_{self.kind}"] = self.target
        if self.false_match_rate is not None:
            body["false_match_rate"] = self.false_match_rate
            if self.kind == "fpir":
                body["expected_fpir"] = -math.expm1(
                    self.gallery_size * math.log1p(-min(self.false_match_rate, 1.0 - 1e-16))
                )
        return body


def check_rate(value: object, name: str) -> float:
    """``value`` as a rate strictly between 0 and 1 (``bad_request`` naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FRSError("bad_request", f"{name} must be a number in (0, 1), got {value!r}")
    if not 0.0 < value < 1.0:
        raise FRSError("bad_request", f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def per_comparison_rate(target_fpir: float, gallery_size: int) -> float:
    """The FMR that makes ``1 - (1 - FMR) ** gallery_size`` equal ``target_fpir`` (stable for tiny rates)."""
    target = check_rate(target_fpir, "target_fpir")
    if isinstance(gallery_size, bool) or not isinstance(gallery_size, int) or gallery_size < 1:
        raise FRSError("bad_request", f"gallery_size must be a positive integer, got {gallery_size!r}")
    return -math.expm1(math.log1p(-target) / gallery_size)


def expected_fpir(threshold: float, gallery_size: int, calibration: Calibration) -> float:
    """The model's FPIR at ``threshold`` for a gallery of ``gallery_size`` enrolled faces."""
    fmr = calibration.false_match_rate(threshold)
    return -math.expm1(gallery_size * math.log1p(-min(fmr, 1.0 - 1e-16)))


def threshold_for(target_fpir: float, gallery_size: int, calibration: Calibration) -> OperatingPoint:
    """The open-set threshold naming at most ``target_fpir`` of strangers in a gallery of ``gallery_size``
    enrolled faces (an empty gallery names nobody: pass 1)."""
    fmr = per_comparison_rate(target_fpir, gallery_size)
    threshold = calibration.threshold_at(fmr)
    return OperatingPoint(threshold, float(target_fpir), "fpir", gallery_size, fmr)


def threshold_for_far(target_far: float, calibration: Calibration) -> OperatingPoint:
    """The 1:1 verification threshold with a false-accept rate of ``target_far``."""
    far = check_rate(target_far, "target_far")
    return OperatingPoint(calibration.threshold_at(far), far, "far", 1, far)


def fixed_operating_point(
    threshold: float,
    *,
    kind: str = "fpir",
    gallery_size: int = 1,
    calibration: Calibration | None = None,
    source: str = "explicit",
) -> OperatingPoint:
    """An operating point for a threshold given outright (the caller's ``threshold``, or the pack's fixed
    ``match_threshold`` when the pack has no calibration); a calibration, if any, says what it means."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not -1.0 <= threshold <= 1.0:
        raise FRSError("bad_request", f"threshold must be a number from -1 to 1, got {threshold!r}")
    if kind not in ("fpir", "far"):
        raise ValueError("kind must be 'fpir' or 'far'")
    if isinstance(gallery_size, bool) or not isinstance(gallery_size, int) or gallery_size < 1:
        raise FRSError("bad_request", f"gallery_size must be a positive integer, got {gallery_size!r}")
    fmr = calibration.false_match_rate(float(threshold)) if calibration is not None else None
    return OperatingPoint(float(threshold), None, kind, gallery_size, fmr, source)
