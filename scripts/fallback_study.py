"""Issue 20 item 3: the detection fallback (``detector.fallback_threshold``), measured on both sides.

For each pack, with the fallback off (the first pass, the frame-filling look and the brightened look at the
pack's threshold) and on at each ``--floors`` value below the pack's threshold:

1. Found faces: the lfw-dev photos where the pack finds no face, and how many of them the fallback rescues,
   per yaw bin (the yaw the first pack's landmarks give the photo's largest face at a 0.3 floor, as
   ``scripts/pose_study.py`` bins with SCRFD's), with how many rescued boxes hold the photo's centre (LFW's
   labelled face sits there) and carry EXTREME_POSE.
2. False faces: faceless images built from lfw-dev (and the pinned test photos, ``frs testdata``): every box
   the packs' first pass gives at ``--mask-floor`` (0.1), padded by ``--pad`` of its size on each side, is
   (a) painted out (OpenCV's Telea inpainting) and (b) cut away, keeping the strips of the photo left, right,
   above and below all the padded boxes that are at least ``--min-strip`` pixels across. The faces found on
   them: at the pack's threshold (what the service already invents) and only by the fallback, per floor.
   A mask at 0.1 also paints out the shapes the detectors half-took for faces, so the fallback's rate is a
   lower bound; a second mask from the boxes at each pack's own threshold (``mask: threshold``) leaves faint
   shapes in (and any real face too faint for either pack): an upper bound.
3. Identify: one gallery of ``--gallery`` people (one photo each, enrolled as ``add`` does: the largest face,
   the "low" filter, fallback off), at the calibrated threshold for that gallery size (FPIR 1%). What identify
   answers (quality filter "none", the default) for each rescued photo, mated or not, and how many invented
   faces would be named.
   A harder set than lfw-dev (which the pipeline finds a face in nearly always): ``--turned`` photos turned
   in the image plane by each of ``--angles`` degrees, the faces found at the threshold and by the fallback,
   and identify's answers for the rescued ones.
4. Cost: the time of ``analyze`` (detection only) with the fallback off and on, on photos with a face.

    .venv/bin/python scripts/fallback_study.py /work/shared/datasets/lfw-dev --packs open --faceless 500 \
        --out docs/report/fallback-lfw-dev.json
    .venv/bin/python scripts/fallback_study.py /work/shared/datasets/lfw-dev --packs embedded --faceless 150 \
        --timing 50 --append --out docs/report/fallback-lfw-dev.json

(one pack per run: SCRFD is slow on a shared machine; each pack's entry records its run: the yaw reference and
the masks are then that pack's own.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.decision.operating_point import threshold_for
from frs.errors import FRSError
from frs.evaluation.dataset import is_image, scan_dataset
from frs.packs.manifest import load_manifest
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer
from frs.pipeline.quality import EXTREME_POSE, LOW_CONFIDENCE, estimate_pose

BINS = ((0, 15), (15, 30), (30, 45), (45, 60), (60, 181))
YAW_FLOOR = 0.3  # the floor scripts/pose_study.py bins yaw at
TESTDATA = Path(__file__).resolve().parent.parent / ".cache" / "testdata"
RGB = npt.NDArray[np.uint8]
Box = npt.NDArray[np.float32]


def analyzers(pack: str, floor: float) -> tuple[FaceAnalyzer, FaceAnalyzer]:
    """The pack with the fallback off, and on at ``floor`` (whatever its manifest ships)."""
    settings = dataclasses.replace(Settings.from_env(), pack=pack, det_threshold=None)
    manifest = load_manifest(pack, settings.models_dir)

    def with_floor(value: float | None) -> FaceAnalyzer:
        detector = dataclasses.replace(manifest.detector, fallback_threshold=value)
        return FaceAnalyzer(dataclasses.replace(manifest, detector=detector), settings)

    return with_floor(None), with_floor(floor)


def png(rgb: RGB) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return data.tobytes()


def largest(faces: list[AnalyzedFace]) -> AnalyzedFace | None:
    return max(faces, key=lambda f: f.area) if faces else None


def bin_of(yaw: float | None) -> str | None:
    if yaw is None:
        return None
    return next(f"{low}-{high}" for low, high in BINS if low <= abs(yaw) < high)


def padded_mask(shape: tuple[int, ...], boxes: Iterable[Box], pad: float) -> npt.NDArray[np.uint8]:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    height, width = shape[:2]
    for x1, y1, x2, y2 in boxes:
        dx, dy = pad * (x2 - x1), pad * (y2 - y1)
        left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
        right, bottom = min(width, int(np.ceil(x2 + dx))), min(height, int(np.ceil(y2 + dy)))
        mask[top:bottom, left:right] = 255
    return mask


def strips(rgb: RGB, mask: npt.NDArray[np.uint8], min_side: int) -> list[RGB]:
    """The parts of ``rgb`` left of, right of, above and below every masked pixel, at least ``min_side``
    across (the whole photo when nothing is masked)."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return [rgb]
    x1, x2, y1, y2 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
    parts = [rgb[:, :x1], rgb[:, x2:], rgb[:y1, :], rgb[y2:, :]]
    return [p for p in parts if min(p.shape[:2]) >= min_side]


def first_pass(analyzer: FaceAnalyzer, rgb: RGB, floor: float) -> list[tuple[Box, float, Any]]:
    return [(d.bbox, d.score, d.landmarks) for d in analyzer.detector.detect(rgb, floor)]


def choose_gallery(people: dict[str, list[Path]], size: int, seed: int) -> list[str]:
    """As ``scripts/pose_study.py``: people with several photos first, then people with one."""
    rng = random.Random(seed)
    repeat = [name for name, photos in people.items() if len(photos) > 1]
    single = [name for name, photos in people.items() if len(photos) == 1]
    enrolled = rng.sample(repeat, min(size, len(repeat)))
    return enrolled + rng.sample(single, max(0, size - len(enrolled)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--packs", nargs="+", default=["embedded", "open"], help="first: the yaw reference")
    parser.add_argument("--floors", nargs="+", type=float, default=[0.3, 0.4, 0.5, 0.6])
    parser.add_argument("--mask-floor", type=float, default=0.1)
    parser.add_argument("--pad", type=float, default=0.3, help="box padding on each side, share of its size")
    parser.add_argument("--min-strip", type=int, default=40, help="narrowest background strip kept, pixels")
    parser.add_argument(
        "--faceless", type=int, default=0, help="photos to build faceless images from (0: all)"
    )
    parser.add_argument("--gallery", type=int, default=1000)
    parser.add_argument("--timing", type=int, default=200, help="photos timed with the fallback off and on")
    parser.add_argument("--people", type=int, default=0, help="only the first N people (0: all; smoke runs)")
    parser.add_argument("--turned", type=int, default=500, help="photos turned in the image plane")
    parser.add_argument("--angles", nargs="+", type=float, default=[60.0, 90.0], help="degrees")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--append", action="store_true", help="add these packs to an existing --out report")
    args = parser.parse_args()
    floors = sorted(args.floors)
    people = {name: list(photos) for name, photos in scan_dataset(args.dataset).items()}
    if args.people:
        people = dict(list(people.items())[: args.people])
    paths = [p for photos in people.values() for p in photos]
    owner = {p: name for name, photos in people.items() for p in photos}
    pinned = sorted(p for p in TESTDATA.iterdir() if is_image(p)) if TESTDATA.is_dir() else []
    pair = {pack: analyzers(pack, floors[0]) for pack in args.packs}

    # The first pass of every pack down to the mask floor, on every photo (lfw-dev and pinned).
    raw: dict[str, dict[Path, list[tuple[Box, float, Any]]]] = {pack: {} for pack in args.packs}
    for path in tqdm(paths + pinned, desc="first pass", unit="img"):
        try:
            rgb = pair[args.packs[0]][0].decode(path.read_bytes()).rgb
        except FRSError:
            continue
        for pack in args.packs:
            raw[pack][path] = first_pass(pair[pack][0], rgb, args.mask_floor)
    reference = raw[args.packs[0]]
    level_nose = pair[args.packs[0]][0].manifest.detector.quality.level_nose
    yaw: dict[Path, float] = {}
    for path in paths:
        seen = [(b, lm) for b, s, lm in reference.get(path, []) if s >= YAW_FLOOR]
        if seen:
            _, points = max(
                seen, key=lambda item: float((item[0][2] - item[0][0]) * (item[0][3] - item[0][1]))
            )
            yaw[path] = estimate_pose(points, level_nose).yaw

    rng = random.Random(args.seed)
    sources = [p for p in paths if p in reference]
    if args.faceless:
        sources = rng.sample(sources, min(args.faceless, len(sources)))
    sources += [p for p in pinned if p in reference]
    thresholds = {pack: pair[pack][0].det_threshold for pack in args.packs}
    decode = pair[args.packs[0]][0].decode

    def faceless() -> Iterable[tuple[str, RGB]]:
        """Every box either pack saw at the mask floor (or at its own threshold), padded, gone."""
        for path in sources:
            rgb = decode(path.read_bytes()).rgb
            for mask_name in ("floor", "threshold"):
                boxes = [
                    b
                    for pack in args.packs
                    for b, s, _ in raw[pack][path]
                    if s >= (args.mask_floor if mask_name == "floor" else thresholds[pack])
                ]
                mask = padded_mask(rgb.shape, boxes, args.pad)
                painted = np.asarray(cv2.inpaint(rgb, mask, 5, cv2.INPAINT_TELEA), dtype=np.uint8)
                yield f"painted/mask {mask_name}", painted
                for part in strips(rgb, mask, args.min_strip):
                    yield f"strips/mask {mask_name}", part

    run = {
        "command": " ".join(sys.argv),
        "yaw_reference": args.packs[0],
        "mask_packs": args.packs,
        "faceless_sources": len(sources),
        "pinned_photos": len(pinned),
    }
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "photos": len(paths),
        "floors": floors,
        "packs": {},
    }
    if args.append and args.out.is_file():
        report = json.loads(args.out.read_text())
    for pack in args.packs:
        study = study_pack(pack, pair[pack], floors, args, people, paths, owner, raw[pack], yaw, faceless)
        report["packs"][pack] = {"run": run, **study}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1)[:3000])


def study_pack(
    pack: str,
    pair: tuple[FaceAnalyzer, FaceAnalyzer],
    floors: list[float],
    args: argparse.Namespace,
    people: dict[str, list[Path]],
    paths: list[Path],
    owner: dict[Path, str],
    raw: dict[Path, list[tuple[Box, float, Any]]],
    yaw: dict[Path, float],
    faceless: Callable[[], Iterable[tuple[str, RGB]]],
) -> dict[str, Any]:
    off, on = pair
    threshold = off.det_threshold
    usable = [f for f in floors if f < threshold]
    limit = np.float32(threshold)
    min_side = off.settings.min_face

    # 1. Photos the pack finds no face in (the first pass decides most; the full look confirms).
    lost: list[Path] = []
    for path in tqdm(paths, desc=f"{pack}: lost", unit="img"):
        if any(
            np.float32(s) >= limit and min(b[2] - b[0], b[3] - b[1]) >= min_side
            for b, s, _ in raw.get(path, [])
        ):
            continue
        if not off.analyze(path.read_bytes(), embed=False).faces:
            lost.append(path)
    below: list[Path] = []
    for path in paths:
        seen = [(b, sc) for b, sc, _ in raw.get(path, []) if sc >= YAW_FLOOR]
        if seen:
            _, score = max(
                seen, key=lambda item: float((item[0][2] - item[0][0]) * (item[0][3] - item[0][1]))
            )
            if np.float32(score) < limit:
                below.append(path)
    rescued: dict[Path, AnalyzedFace] = {}
    centred: set[Path] = set()  # the box holds the photo's centre
    for path in lost:
        analysis = on.analyze(path.read_bytes())
        assert len(analysis.faces) <= 1
        if analysis.faces:
            face = rescued[path] = analysis.faces[0]
            x1, y1, x2, y2 = face.bbox
            if x1 <= analysis.width / 2 <= x2 and y1 <= analysis.height / 2 <= y2:
                centred.add(path)

    # 3. The gallery, enrolled as add does (fallback off, "low" filter).
    gallery: list[npt.NDArray[np.float32]] = []
    names: list[str] = []
    for name in tqdm(choose_gallery(people, args.gallery, args.seed), desc=f"{pack}: enrol", unit="img"):
        best = largest(off.analyze(people[name][0].read_bytes()).faces)
        if best is not None and best.embedding is not None and not off.quality_refusals(best, "low"):
            gallery.append(best.embedding)
            names.append(name)
    matrix = np.stack(gallery)
    assert off.calibration is not None
    match = threshold_for(0.01, len(names), off.calibration).threshold
    enrolled = set(names)

    def answer(embedding: npt.NDArray[np.float32] | None, who: str | None) -> str:
        assert embedding is not None
        scores = matrix @ embedding
        top = int(np.argmax(scores))
        if float(scores[top]) < match:
            return "below_threshold"
        if who is not None and names[top] == who:
            return "named_right"
        return "named_wrong"

    found: dict[str, Any] = {}
    for floor in usable:
        kept = {p: f for p, f in rescued.items() if f.score >= floor}
        per_bin: dict[str, dict[str, int]] = {}
        for low, high in BINS:
            key = f"{low}-{high}"
            inside = [p for p in lost if bin_of(yaw.get(p)) == key]
            per_bin[key] = {"lost": len(inside), "rescued": sum(p in kept for p in inside)}
        answers: dict[str, dict[str, int]] = {"mated": {}, "not_enrolled": {}}
        for path, face in kept.items():
            group = "mated" if owner[path] in enrolled and path != people[owner[path]][0] else "not_enrolled"
            verdict = answer(face.embedding, owner[path])
            answers[group][verdict] = answers[group].get(verdict, 0) + 1
        found[str(floor)] = {
            "rescued": len(kept),
            "box_holds_centre": sum(p in centred for p in kept),
            "extreme_pose": sum(EXTREME_POSE in f.quality.issues for f in kept.values()),
            "low_confidence": sum(LOW_CONFIDENCE in f.quality.issues for f in kept.values()),
            "refused_by_low_filter": sum(bool(on.quality_refusals(f, "low")) for f in kept.values()),
            "yaw_bins": per_bin,
            "identify_filter_none": answers,
        }

    # 2. Faceless images.
    tally: dict[str, dict[str, Any]] = {}
    for kind, rgb in tqdm(faceless(), desc=f"{pack}: faceless", unit="img"):
        row = tally.setdefault(kind, {"images": 0, "at_threshold": 0, "fallback": []})
        row["images"] += 1
        faces = on.analyze(png(rgb)).faces
        if any(f.score >= threshold for f in faces):
            row["at_threshold"] += 1
        elif faces:
            embedding = faces[0].embedding
            assert embedding is not None
            row["fallback"].append((faces[0].score, float((matrix @ embedding).max())))
    false_faces: dict[str, Any] = {}
    for kind, row in sorted(tally.items()):
        pairs = row["fallback"]
        false_faces[kind] = {
            "images": row["images"],
            "faces_at_threshold": row["at_threshold"],
            "fallback_faces": {
                str(f): {
                    "images": sum(s >= f for s, _ in pairs),
                    "would_be_named": sum(s >= f and n >= match for s, n in pairs),
                }
                for f in usable
            },
            "fallback_top_similarity_max": round(max(n for _, n in pairs), 4) if pairs else None,
        }

    # 1b. Harder faces than lfw-dev holds: photos turned in the image plane (about their centre, where the
    # labelled face stays), the faces found at the threshold and only by the fallback, and identify's answers.
    sample = random.Random(args.seed + 1).sample(paths, min(args.turned, len(paths)))
    turned: dict[str, Any] = {}
    for angle in args.angles:
        at_threshold, fallback = 0, []
        for path in tqdm(sample, desc=f"{pack}: turned {angle}", unit="img"):
            rgb = off.decode(path.read_bytes()).rgb
            height, width = rgb.shape[:2]
            turn = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
            data = png(
                np.asarray(cv2.warpAffine(rgb, turn, (width, height), borderMode=cv2.BORDER_REPLICATE))
            )
            analysis = on.analyze(data)
            if any(f.score >= threshold for f in analysis.faces):
                at_threshold += 1
            elif analysis.faces:
                face = analysis.faces[0]
                x1, y1, x2, y2 = face.bbox
                holds = x1 <= width / 2 <= x2 and y1 <= height / 2 <= y2
                group = (
                    "mated" if owner[path] in enrolled and path != people[owner[path]][0] else "not_enrolled"
                )
                fallback.append((face.score, holds, group, answer(face.embedding, owner[path])))
        per_floor = {}
        for floor in usable:
            rows = [row for row in fallback if row[0] >= floor]
            tally_of: dict[str, dict[str, int]] = {"mated": {}, "not_enrolled": {}}
            for _, _, group, verdict in rows:
                tally_of[group][verdict] = tally_of[group].get(verdict, 0) + 1
            per_floor[str(floor)] = {
                "rescued": len(rows),
                "box_holds_centre": sum(row[1] for row in rows),
                "identify_filter_none": tally_of,
            }
        turned[str(angle)] = {
            "photos": len(sample),
            "found_at_threshold": at_threshold,
            "fallback": per_floor,
        }

    # 4. Cost on photos with a face.
    timed = random.Random(args.seed).sample([p for p in paths if p not in set(lost)], args.timing)
    spent: dict[str, list[float]] = {"off": [], "on": []}
    for path in timed:
        data = path.read_bytes()
        for label, analyzer in (("off", off), ("on", on)):
            start = time.perf_counter()
            analyzer.analyze(data, embed=False)
            spent[label].append(time.perf_counter() - start)
    return {
        "threshold": threshold,
        "lowest_floor_run": on.fallback_floor,
        "photos_without_a_face": len(lost),
        # scripts/pose_study.py's "no face at threshold": the largest first-pass box at its 0.3 floor scores
        # under the threshold; and of those, the photos where another box reaches it (the pipeline's face).
        "largest_box_below_threshold": len(below),
        "largest_box_below_threshold_other_face_found": sum(p not in set(lost) for p in below),
        "turned": turned,
        "lost_photos": sorted(p.name for p in lost),
        "lost_yaw_unknown": sum(p not in yaw for p in lost),
        "found": found,
        "gallery": {"people": len(names), "threshold": round(match, 4), "target_fpir": 0.01},
        "false_faces": false_faces,
        "detect_ms_median": {k: round(1000 * float(np.median(v)), 2) for k, v in spent.items()},
        "timed_photos": len(timed),
    }


if __name__ == "__main__":
    main()
