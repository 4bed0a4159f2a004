"""Issue 20 item 4: faces lit from one side (the held-out light-direction set), built from lfw-dev, and
whether normalising the aligned crop's illumination before the recognizer helps.

Each photo is relit in linear light by a point source at ``theta`` degrees from the camera axis, to a random
side (seeded), on a cylinder the width of an LFW head centred in the frame: a pixel whose surface faces the
light keeps its brightness, one turned away from it keeps only ``--ambient`` of it. It is a stand-in for the
held-out set (no cast shadows of the nose or brow, no elevation), not that set.

Protocol: every person with two or more photos enrols one clean photo (the first, sorted); up to
``--probes`` other photos of each search, relit; ``--strangers`` photos of people with one photo search as
strangers, relit the same way. Each photo is analysed as the service does (the pack's threshold, then the
fallback; the face nearest the centre), the aligned crop is kept, and each crop mode is embedded from the
same crops:

- ``none``: the service today;
- ``clahe``: CLAHE on the crop's L channel, every crop;
- ``flatten``: the crop's luminance divided by its heavy blur (the slow shading), every crop;
- ``clahe-uneven`` / ``flatten-uneven``: the same, only on a crop whose two halves differ in brightness by
  more than ``--uneven`` (the darker half's mean over the brighter's below it).

Per angle and mode: faces found, 1:1 TAR and FAR at the pack's calibrated threshold for FAR 0.1% (each probe
against its own enrolment / against every other enrolment), and FNIR / FPIR at the default open-set threshold
(the pack's calibration at FPIR 1% for the gallery's size). Long (about 13 minutes): run it by hand.

    .venv/bin/python scripts/side_light_study.py ../shared/datasets/lfw-dev \
        --out docs/report/side-light-lfw-dev.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.decision.operating_point import threshold_for, threshold_for_far
from frs.errors import FRSError
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.degraded.conditions import encode_jpeg
from frs.evaluation.embeddings import choose_face
from frs.evaluation.systems import pack_calibration
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from frs.pipeline.embedder import Embedder
from frs.pipeline.illumination import luminance

Crops = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]
ANGLES = (0, 20, 35, 50, 65, 80)
HEAD_RADIUS = 0.25  # of the frame's width: an LFW head, centred


def relight(rgb: npt.NDArray[np.uint8], theta: float, side: int, ambient: float) -> npt.NDArray[np.uint8]:
    """``rgb`` lit from ``theta`` degrees to ``side`` (+1 image right, -1 left) on a centred cylinder."""
    width = rgb.shape[1]
    x = (np.arange(width, dtype=np.float32) - width / 2) / (HEAD_RADIUS * width)
    normal = np.arcsin(np.clip(x, -1.0, 1.0))
    shade = ambient + (1 - ambient) * np.maximum(0.0, np.cos(normal - side * math.radians(theta)))
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * shade[None, :, None]
    return np.asarray(np.clip(np.rint(255.0 * linear ** (1 / 2.2)), 0, 255), np.uint8)


def _luma(crops: Crops) -> npt.NDArray[np.float32]:
    return np.stack([luminance(c) for c in crops]).astype(np.float32)


def unevenness(crops: Crops) -> npt.NDArray[np.float32]:
    """Per crop: the darker half's mean luma over the brighter's (1 = even), on the face's central rows."""
    luma = _luma(crops)
    h, w = luma.shape[1:]
    band = luma[:, h // 4 : 7 * h // 8]
    left, right = (
        band[:, :, w // 8 : w // 2].mean(axis=(1, 2)),
        band[:, :, w // 2 : 7 * w // 8].mean(axis=(1, 2)),
    )
    return np.asarray(np.minimum(left, right) / np.maximum(np.maximum(left, right), 1.0), np.float32)


def _with_luma(
    crop: npt.NDArray[np.uint8], old: npt.NDArray[np.float32], new: npt.NDArray[np.float32]
) -> Crops:
    gain = new / np.maximum(old, 1.0)
    return np.clip(np.rint(crop.astype(np.float32) * gain[:, :, None]), 0, 255).astype(np.uint8)


def clahe(crops: Crops) -> Crops:
    tool = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))
    out = []
    for crop in crops:
        lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)
        lab[:, :, 0] = tool.apply(np.ascontiguousarray(lab[:, :, 0]))
        out.append(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))
    return np.stack(out).astype(np.uint8)


def flatten(crops: Crops) -> Crops:
    out = []
    for crop, luma in zip(crops, _luma(crops), strict=True):
        shading = cv2.GaussianBlur(luma, (0, 0), sigmaX=crop.shape[1] / 8)
        flat = luma / np.maximum(shading, 4.0) * float(luma.mean())
        out.append(_with_luma(crop, luma, np.clip(flat, 0, 255)))
    return np.stack(out)


def only_uneven(step: Callable[[Crops], Crops], limit: float) -> Callable[[Crops], Crops]:
    def apply(crops: Crops) -> Crops:
        pick = unevenness(crops) < limit
        if not pick.any():
            return crops
        out = crops.copy()
        out[pick] = step(crops[pick])
        return out

    return apply


class _Recorder:
    """Stands in for the analyzer's embedder: keeps the aligned crops it is given."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.crops: list[Crops] = []

    def embed(self, crops: Crops) -> npt.NDArray[np.float32]:
        self.crops.append(crops.copy())
        return self.embedder.embed(crops)


def centre_crop(analyzer: FaceAnalyzer, recorder: _Recorder, data: bytes) -> Crops | None:
    """The aligned crop (1, H, W, 3) of the face nearest the centre, or None where no face is found."""
    recorder.crops.clear()
    try:
        analysis = analyzer.analyze(data)
    except FRSError:
        return None
    if not analysis.faces:
        return None
    faces = list(analysis.faces)
    chosen = choose_face(faces, "centre", (analysis.width, analysis.height))
    index = next(n for n, f in enumerate(faces) if f is chosen)
    return recorder.crops[0][index : index + 1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--pack", default="open")
    parser.add_argument("--probes", type=int, default=1, help="relit searches per enrolled person (1)")
    parser.add_argument("--strangers", type=int, default=1000, help="relit stranger searches per angle")
    parser.add_argument("--ambient", type=float, default=0.02, help="light left on the far side (0.02)")
    parser.add_argument("--uneven", type=float, default=0.6, help="darker/brighter half ratio that triggers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    identities = scan_dataset(args.dataset)
    people = sorted(n for n, p in identities.items() if len(p) > 1)
    enrolled = [sorted(identities[n])[0] for n in people]
    probes = [(k, p) for k, n in enumerate(people) for p in sorted(identities[n])[1:][: args.probes]]
    singles = sorted(sorted(p)[0] for p in identities.values() if len(p) == 1)
    strangers = rng.sample(singles, min(args.strangers, len(singles)))
    sides = {path: rng.choice((-1, 1)) for path in [p for _, p in probes] + strangers}

    analyzer = load_analyzer(dataclasses.replace(Settings.from_env(), pack=args.pack, det_threshold=None))
    recorder = _Recorder(analyzer.embedder)
    analyzer.embedder = recorder  # type: ignore[assignment]
    modes: dict[str, Callable[[Crops], Crops]] = {
        "none": lambda c: c,
        "clahe": clahe,
        "flatten": flatten,
        "clahe-uneven": only_uneven(clahe, args.uneven),
        "flatten-uneven": only_uneven(flatten, args.uneven),
    }

    def embed_all(crops: list[Crops | None]) -> dict[str, npt.NDArray[np.float32]]:
        """Each mode's embedding of every crop (zeros where no face was found: below any threshold)."""
        found = [n for n, c in enumerate(crops) if c is not None]
        stacked = np.concatenate([crops[n] for n in found]) if found else None
        out = {}
        for name, step in modes.items():
            full = np.zeros((len(crops), recorder.embedder.spec.dim), np.float32)
            if stacked is not None:
                full[found] = recorder.embedder.embed(step(stacked))
            out[name] = full
        return out

    def crops_of(paths: list[Path], theta: float | None, label: str) -> list[Crops | None]:
        result = []
        for path in tqdm(paths, desc=label, unit="photo", mininterval=30):
            data = path.read_bytes()
            if theta is not None:
                data = encode_jpeg(relight(analyzer.decode(data).rgb, theta, sides[path], args.ambient))
            result.append(centre_crop(analyzer, recorder, data))
        return result

    calibration = pack_calibration(analyzer)
    assert calibration is not None, f"pack {args.pack} has no calibration"
    one_to_one = float(threshold_for_far(0.001, calibration).threshold)
    open_set = float(threshold_for(Settings().target_fpir, len(enrolled), calibration).threshold)
    gallery_crops = crops_of(enrolled, None, "enrolled")
    gallery = embed_all(gallery_crops)
    gallery_found = np.array([c is not None for c in gallery_crops])
    clean_uneven = unevenness(np.concatenate([c for c in gallery_crops if c is not None]))
    owners = np.array([k for k, _ in probes])
    g_owner = np.flatnonzero(gallery_found)  # person index of each found enrolment
    result: dict[str, Any] = {
        "dataset": args.dataset.name,
        "command": "scripts/side_light_study.py " + " ".join(sys.argv[1:]),
        "pack": args.pack,
        "enrolled": len(enrolled),
        "enrolled_found": int(gallery_found.sum()),
        "probes": len(probes),
        "strangers": len(strangers),
        "ambient": args.ambient,
        "uneven_limit": args.uneven,
        "clean_crops_uneven": float((clean_uneven < args.uneven).mean()),
        "thresholds": {"one_to_one_far_0.1%": one_to_one, "open_set_fpir_1%": open_set},
        "angles": {},
    }
    for theta in ANGLES:
        probe_crops = crops_of([p for _, p in probes], theta, f"probes {theta}")
        stranger_crops = crops_of(strangers, theta, f"strangers {theta}")
        probe_found = np.array([c is not None for c in probe_crops])
        stranger_found = np.array([c is not None for c in stranger_crops])
        probe_vectors, stranger_vectors = embed_all(probe_crops), embed_all(stranger_crops)
        row: dict[str, Any] = {
            "probes_found": int(probe_found.sum()),
            "strangers_found": int(stranger_found.sum()),
            "uneven_probes": float(
                (unevenness(np.concatenate([c for c in probe_crops if c is not None])) < args.uneven).mean()
            ),
        }
        for name in modes:
            g = gallery[name][gallery_found]
            sims = probe_vectors[name] @ g.T
            sims[~probe_found] = -2.0
            own = g_owner[None, :] == owners[:, None]
            genuine = np.where(own.any(axis=1), np.where(own, sims, -2.0).max(axis=1), -2.0)
            impostor = sims[~own & probe_found[:, None]]
            best = sims.argmax(axis=1)
            named = sims.max(axis=1) > open_set
            hits = named & (g_owner[best] == owners)
            stranger_best = (stranger_vectors[name] @ g.T).max(axis=1)
            stranger_named = stranger_found & (stranger_best > open_set)
            row[name] = {
                "tar": float((genuine > one_to_one).mean()),
                "far": float((impostor > one_to_one).mean()),
                "fnir": float(1 - hits.mean()),
                "misses": int((~hits).sum()),
                "fpir": float(stranger_named.mean()),
                "strangers_named": int(stranger_named.sum()),
            }
        result["angles"][str(theta)] = row
        print(theta, json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
