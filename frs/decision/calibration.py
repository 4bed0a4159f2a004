"""A pack's calibration record: how often two different people score at least ``t``.

``compute_calibration`` takes embeddings with identity labels (one face per row), scores every pair of faces
once (:mod:`frs.decision.pairs`) and keeps one false-match-rate curve (:mod:`frs.decision.curve`) over every
pair of different people, **each identity weighing one** (a gallery holds a photo or two per person; a
stranger's photos count at most ``probe_cap``), optionally only inside look-alike groups. Identify's open-set
thresholds follow from it with ``FPIR(t, N) = 1 - (1 - FMR(t)) ** N`` (:mod:`frs.decision.operating_point`)
and verify's 1:1 threshold is ``FMR(t) = target_far``.

Version 1 records took face pairs inside look-alike groups of ~50 faces. On lfw-dev people it never saw,
that population made identify name 9-50 times fewer strangers than asked for at 10-1,000 enrolled, and miss
six times more of the people it knows at 1,000 (23.0% against 3.8%; README, "Operating points"). They
still load, with the operating points they gave; run ``frs calibrate`` again for the current ones.

The genuine (same-person) scores are summarised for reports. The record is plain JSON (``to_dict`` /
``calibration_from_dict``) and lives in the pack manifest under ``"calibration"``. It holds statistics only:
no photo, no embedding, no file name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.curve import (
    EACH_IDENTITY,
    EVERY_PAIR,
    LOOK_ALIKE,
    ImpostorCurve,
    curve_from_dict,
    fit_curve,
    invalid,
    number,
)
from frs.decision.groups import look_alike_groups
from frs.decision.pairs import PairWeights, score_pairs
from frs.errors import FRSError

FORMAT_VERSION = 2
#: A stranger's photos weigh at most this many in the curve (lfw-dev has a person with 236 photos).
DEFAULT_PROBE_CAP = 10


@dataclass(frozen=True)
class GenuineSummary:
    pairs: int
    mean: float
    std: float
    quantiles: dict[str, float]  # "0.01" -> score below which 1% of genuine pairs fall


@dataclass(frozen=True)
class Calibration:
    pack: str
    dataset: str
    identities: int
    faces: int
    impostors: ImpostorCurve
    genuine: GenuineSummary | None
    probe_cap: int | None = DEFAULT_PROBE_CAP
    version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "pack": self.pack,
            "dataset": self.dataset,
            "identities": self.identities,
            "faces": self.faces,
            "probe_cap": self.probe_cap,
            "impostors": self.impostors.to_dict(),
            "genuine": None if self.genuine is None else asdict(self.genuine),
        }


def _unit_rows(embeddings: npt.ArrayLike, labels: Sequence[object]) -> npt.NDArray[np.float32]:
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(labels):
        raise FRSError("bad_request", "embeddings must be (faces, dim) with one label per face")
    if not np.isfinite(vectors).all():
        raise FRSError("bad_request", "embeddings contain NaN or infinity")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if (norms <= 0).any():
        raise FRSError("bad_request", "an embedding is all zeros")
    unit: npt.NDArray[np.float32] = vectors / norms
    return unit


def compute_calibration(
    embeddings: npt.ArrayLike,
    labels: Sequence[object],
    *,
    pack: str,
    dataset: str,
    groups: Sequence[int] | None = None,
    probe_cap: int | None = DEFAULT_PROBE_CAP,
) -> Calibration:
    """The calibration record of a pack from ``embeddings`` (one face per row) labelled by identity.

    With ``groups`` (one group number per face, e.g. from :func:`frs.decision.groups.look_alike_groups`),
    impostor pairs are only taken inside a group: the rate of a population of similar-looking people."""
    vectors = _unit_rows(embeddings, labels)
    _, codes = np.unique(np.asarray([str(label) for label in labels]), return_inverse=True)
    codes = codes.astype(np.int64)
    identities = int(codes.max()) + 1 if codes.size else 0
    if identities < 2:
        raise FRSError("bad_request", "calibration needs faces of at least two identities")
    if groups is not None and len(groups) != vectors.shape[0]:
        raise FRSError("bad_request", "groups must give one group per face")
    if probe_cap is not None and probe_cap < 1:
        raise FRSError("bad_request", f"probe_cap must be at least 1, got {probe_cap}")
    weights = PairWeights.each_identity_weighs_one(codes, probe_cap, groups)
    people = score_pairs(vectors, codes, weights)
    group_count = int(np.unique(weights.groups).size)
    impostors = fit_curve(
        people, population=LOOK_ALIKE if group_count > 1 else EACH_IDENTITY, groups=group_count
    )
    genuine = people.genuine
    summary = None
    if genuine.size:
        summary = GenuineSummary(
            pairs=int(genuine.size),
            mean=float(genuine.mean()),
            std=float(genuine.std()),
            quantiles={f"{q:g}": float(np.quantile(genuine, q)) for q in (0.01, 0.05, 0.1, 0.5)},
        )
    return Calibration(
        pack=pack,
        dataset=dataset,
        identities=identities,
        faces=int(vectors.shape[0]),
        impostors=impostors,
        genuine=summary,
        probe_cap=probe_cap,
    )


def _genuine(raw: object) -> GenuineSummary | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("quantiles"), dict):
        raise invalid("genuine must be an object with quantiles")
    return GenuineSummary(
        pairs=int(number(raw, "pairs")),
        mean=number(raw, "mean"),
        std=number(raw, "std"),
        quantiles={str(k): number(raw["quantiles"], k) for k in raw["quantiles"]},
    )


def calibration_from_dict(record: object) -> Calibration:
    """Validate a calibration record read from JSON (``Calibration.to_dict`` output) and build it; a
    version-1 record (its curve at the top level) loads as the curve it was."""
    if not isinstance(record, dict):
        raise invalid("not an object")
    version = record.get("version")
    if version not in (1, FORMAT_VERSION):
        raise invalid(f"version must be 1 or {FORMAT_VERSION}")
    counts = {key: int(number(record, key)) for key in ("identities", "faces")}
    if min(counts.values()) <= 0:
        raise invalid("identities and faces must be positive")
    if version == 1:
        groups = int(number(record, "groups")) if "groups" in record else 1
        impostors = curve_from_dict(record, population=LOOK_ALIKE if groups > 1 else EVERY_PAIR)
        probe_cap = None
    else:
        impostors = curve_from_dict(record.get("impostors"))
        raw_cap = record.get("probe_cap")
        probe_cap = None if raw_cap is None else int(number(record, "probe_cap"))
    return Calibration(
        pack=str(record.get("pack", "")),
        dataset=str(record.get("dataset", "")),
        identities=counts["identities"],
        faces=counts["faces"],
        impostors=impostors,
        genuine=_genuine(record.get("genuine")),
        probe_cap=probe_cap,
        version=int(version),
    )


def load_pack_calibration(manifest_path: Path) -> Calibration | None:
    """The ``"calibration"`` record of a pack manifest (``PackManifest.path``), or None when it has none.

    A pack without a record cannot turn target rates into thresholds: the caller falls back to the
    recognizer's fixed ``match_threshold`` and should say so in its answers."""
    try:
        raw = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise invalid(f"cannot read {manifest_path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("calibration") is None:
        return None
    return calibration_from_dict(raw["calibration"])


def calibrate_pack(
    embeddings: npt.ArrayLike,
    labels: Sequence[object],
    *,
    pack: str,
    dataset: str,
    group_size: int | None = None,
    probe_cap: int | None = DEFAULT_PROBE_CAP,
) -> Calibration:
    """What ``frs calibrate DATASET`` stores: every pair of people (``group_size``: only pairs inside
    look-alike groups of about that many faces, for a deployment whose strangers all look alike)."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    groups = None
    if group_size is not None:
        if group_size < 2:
            raise FRSError("bad_request", f"group_size must be at least 2, got {group_size}")
        count = max(1, round(vectors.shape[0] / group_size))
        groups = look_alike_groups(vectors, count).tolist() if vectors.ndim == 2 and count > 1 else None
    return compute_calibration(
        vectors, labels, pack=pack, dataset=dataset, groups=groups, probe_cap=probe_cap
    )
