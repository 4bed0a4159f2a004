"""Operating points in plain terms: a target error rate in, a similarity threshold out.

Open-set identification (1:N): a stranger is wrongly named when the best of their comparisons with the
gallery's ``N`` enrolled faces reaches the threshold. ``FPIR(t, N) = 1 - (1 - FMR(t)) ** N`` with ``FMR``
the calibration's identification curve (every pair of people, each identity weighing one), so the
per-comparison rate to aim for is ``FMR = 1 - (1 - target_fpir) ** (1 / N)`` (about ``target_fpir / N``):
the threshold rises with the gallery. One probe's comparisons are not independent, but on lfw-dev the exact
expectation over random galleries (each person of the calibration set enrolled with probability N / I)
stayed within 1% of this formula up to N = 3,000.
``N`` counts enrolled **faces**, not identities: FRS scores an identity by its best face, and on lfw-dev a
second photo of each enrolled person raised a stranger's chance of passing by 1.86-1.90x, a third by 2.6-2.7x
(thresholds 0.40-0.50): counting faces slightly over-counts, the safe side.
Verification (1:1) is one comparison: ``FMR = target_far`` on the verification curve.

Below the smallest false-match rate the calibration measured, the threshold comes from the fitted Pareto tail:
the point says so (``extrapolated``) and names the largest gallery it measured for this target.
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
    measured_down_to: float | None = None  # smallest per-comparison rate the calibration observed

    @property
    def extrapolated(self) -> bool:
        """True when the threshold rests on the fitted tail, below every rate the calibration observed."""
        if self.false_match_rate is None or self.measured_down_to is None:
            return False
        return self.false_match_rate < self.measured_down_to * (1 - 1e-9)

    @property
    def measured_gallery_size(self) -> int | None:
        """The largest gallery (enrolled faces) whose threshold at this target the calibration measured rather
        than extrapolated (None for a fixed threshold or without a calibration)."""
        if self.target is None or self.measured_down_to is None:
            return None
        if self.kind == "far":
            return 1
        return gallery_size_for(self.target, self.measured_down_to)

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
            body["extrapolated"] = self.extrapolated
        if self.measured_gallery_size is not None:
            body["measured_gallery_size"] = self.measured_gallery_size
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


def gallery_size_for(target_fpir: float, false_match_rate: float) -> int:
    """The largest gallery whose per-comparison rate at ``target_fpir`` is still ``>= false_match_rate``."""
    return max(1, math.floor(math.log1p(-target_fpir) / math.log1p(-false_match_rate) * (1 + 1e-12)))


def expected_fpir(threshold: float, gallery_size: int, calibration: Calibration) -> float:
    """The model's FPIR at ``threshold`` for a gallery of ``gallery_size`` enrolled faces."""
    fmr = calibration.impostors.false_match_rate(threshold)
    return -math.expm1(gallery_size * math.log1p(-min(fmr, 1.0 - 1e-16)))


def threshold_for(target_fpir: float, gallery_size: int, calibration: Calibration) -> OperatingPoint:
    """The open-set threshold naming at most ``target_fpir`` of strangers in a gallery of ``gallery_size``
    enrolled faces (an empty gallery names nobody: pass 1)."""
    fmr = per_comparison_rate(target_fpir, gallery_size)
    curve = calibration.impostors
    threshold = curve.threshold_at(fmr)
    return OperatingPoint(
        threshold, float(target_fpir), "fpir", gallery_size, fmr, measured_down_to=curve.measured_down_to
    )


def threshold_for_far(target_far: float, calibration: Calibration) -> OperatingPoint:
    """The 1:1 verification threshold with a false-accept rate of ``target_far``."""
    far = check_rate(target_far, "target_far")
    curve = calibration.impostors
    return OperatingPoint(
        curve.threshold_at(far), far, "far", 1, far, measured_down_to=curve.measured_down_to
    )


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
    if calibration is None:
        return OperatingPoint(float(threshold), None, kind, gallery_size, None, source)
    curve = calibration.impostors
    fmr = curve.false_match_rate(float(threshold))
    return OperatingPoint(
        float(threshold), None, kind, gallery_size, fmr, source, measured_down_to=curve.measured_down_to
    )
