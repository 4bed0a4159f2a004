"""Which operating point a request gets, and how an answer states it.

Precedence, for identify and verify alike: the request's ``threshold`` (``source: "explicit"``), else
``FRS_MATCH_THRESHOLD`` (``"configured"``), else the target rate (the request's ``target_fpir`` or
``target_far``, or its setting) turned into a threshold by the pack's calibration record (``"calibrated"``),
else, for a pack without a record, its fixed ``match_threshold`` (``"pack_default"``: the answer says so).
A fixed threshold still reports the false-match rate the calibration gives it: the caller sees what it means.

Identify counts the gallery's enrolled **faces** (``gallery_faces``): each is one more chance for a stranger
to pass (see :mod:`frs.decision.operating_point`). An empty gallery names nobody; its threshold is the one
for a single face.
"""

from __future__ import annotations

import math

from frs.decision.calibration import Calibration
from frs.decision.operating_point import (
    OperatingPoint,
    check_rate,
    fixed_operating_point,
    threshold_for,
    threshold_for_far,
)
from frs.errors import FRSError

EXPLICIT = "explicit"
CONFIGURED = "configured"
PACK_DEFAULT = "pack_default"


def check_threshold(threshold: object) -> float | None:
    """A request's ``threshold``: None, or a number from -1 to 1 (``bad_request`` otherwise)."""
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not -1.0 <= threshold <= 1.0:
        raise FRSError("bad_request", "threshold must be a number from -1 to 1")
    return float(threshold)


def _fixed(
    threshold: float | None,
    configured: float | None,
    pack_threshold: float,
    calibration: Calibration | None,
    *,
    kind: str,
    gallery_size: int,
) -> OperatingPoint | None:
    """The fixed-threshold point, if one applies (None: use the calibrated target)."""
    if threshold is not None:
        value, source = threshold, EXPLICIT
    elif configured is not None:
        value, source = configured, CONFIGURED
    elif calibration is None:
        value, source = pack_threshold, PACK_DEFAULT
    else:
        return None
    return fixed_operating_point(
        value, kind=kind, gallery_size=gallery_size, calibration=calibration, source=source
    )


def identify_point(
    *,
    threshold: float | None,
    configured: float | None,
    target_fpir: float,
    gallery_faces: int,
    calibration: Calibration | None,
    pack_threshold: float,
) -> OperatingPoint:
    """The identify operating point for a gallery of ``gallery_faces`` enrolled faces."""
    size = max(1, gallery_faces)
    fixed = _fixed(threshold, configured, pack_threshold, calibration, kind="fpir", gallery_size=size)
    if fixed is not None:
        return fixed
    assert calibration is not None
    return threshold_for(check_rate(target_fpir, "target_fpir"), size, calibration)


def verify_point(
    *,
    threshold: float | None,
    configured: float | None,
    target_far: float,
    calibration: Calibration | None,
    pack_threshold: float,
) -> OperatingPoint:
    """The 1:1 operating point of verify."""
    fixed = _fixed(threshold, configured, pack_threshold, calibration, kind="far", gallery_size=1)
    if fixed is not None:
        return fixed
    assert calibration is not None
    return threshold_for_far(check_rate(target_far, "target_far"), calibration)


def _rate(value: float | None) -> float | None:
    # Four significant digits: a rate such as 3.352e-04 says all a reader can use.
    return None if value is None else float(f"{value:.4g}")


def identify_point_dict(point: OperatingPoint, gallery_faces: int, quality_filter: str) -> dict[str, object]:
    """The ``operating_point`` of an identify answer (``gallery_size`` is the real face count, 0 if empty)."""
    expected = None
    if point.false_match_rate is not None:
        fmr = min(point.false_match_rate, 1.0 - 1e-16)
        expected = -math.expm1(gallery_faces * math.log1p(-fmr))
    return {
        "basis": "target_fpir" if point.target is not None else "threshold",
        "source": point.source,
        "target_fpir": point.target,
        "gallery_size": gallery_faces,
        "false_match_rate": _rate(point.false_match_rate),
        "expected_fpir": _rate(expected),
        "extrapolated": point.extrapolated,
        "measured_gallery_size": point.measured_gallery_size,
        "quality_filter": quality_filter,
    }


def verify_point_dict(point: OperatingPoint) -> dict[str, object]:
    """The ``operating_point`` of a verify answer."""
    return {
        "basis": "target_far" if point.target is not None else "threshold",
        "source": point.source,
        "target_far": point.target,
        "false_match_rate": _rate(point.false_match_rate),
    }
