"""Issue 12's done criterion, end to end through ``FaceService`` with the default settings.

    .venv/bin/python scripts/openset_check.py DATASET [--pack open] [--draws 15] [--size 30] [--held-out]

DATASET is a folder per identity (e.g. ../shared/datasets/lfw-dev). Each draw enrols one random photo of each
of ``--size`` random people among those with two or more photos (``add``, ``largest=true``, the default
quality filter; a refused photo is replaced by another of that person, as a user asked for a better one
would). Every other photo is one ``identify`` call with default options: the enrolled people's other photos
are genuine searches, the photos of everyone else are strangers. A photo with several faces counts the face
nearest its centre (LFW's labelled person); a photo without a face is a miss for a genuine search and
"nobody" for a stranger. FPIR = strangers named as anyone / stranger searches; FNIR = genuine searches not
named as the right person.

``--held-out`` replaces the pack's calibration (in a temporary copy of the pack) by one made from half of the
single-photo people, and only the other half serve as single-photo strangers: the fair figure for people the
calibration never saw.

Draws reuse photos, so the pooled Wilson intervals are narrower than the data warrant; the per-draw spread is
printed too. Minutes per draw on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from frs.config import Settings
from frs.decision.calibrate import embed_dataset
from frs.decision.calibration import calibrate_pack
from frs.errors import FRSError
from frs.evaluation.rates import wilson_interval
from frs.gallery.factory import clear_gallery_cache
from frs.pipeline.analyzer import load_analyzer
from frs.service import FaceService

GALLERY = "openset-check"


def rate(count: int, n: int) -> str:
    low, high = wilson_interval(count, n)
    return f"{100 * count / n:.2f}% [{100 * low:.2f}, {100 * high:.2f}] ({count}/{n})"


def central(answer: dict[str, Any]) -> dict[str, Any] | None:
    """The answer's face nearest the image centre."""
    width, height = answer["image"]["width"], answer["image"]["height"]

    def distance(face: dict[str, Any]) -> float:
        x1, y1, x2, y2 = face["bbox"]
        return float(((x1 + x2) / 2 - width / 2) ** 2 + ((y1 + y2) / 2 - height / 2) ** 2)

    faces: list[dict[str, Any]] = answer["faces"]
    return min(faces, key=distance) if faces else None


def held_out_settings(
    settings: Settings, people: dict[str, list[Path]], calibrate_on: list[str], work: Path
) -> Settings:
    """``settings`` with a copy of the pack whose calibration comes from ``calibrate_on`` only."""
    embedded = embed_dataset(load_analyzer(settings), {p: people[p] for p in calibrate_on})
    record = calibrate_pack(
        np.stack(embedded.embeddings), embedded.labels, pack=settings.pack, dataset="held-out half"
    )
    models = work / "models"
    (models / settings.pack).mkdir(parents=True)
    manifest = json.loads((settings.models_dir / f"{settings.pack}.json").read_text())
    manifest["calibration"] = record.to_dict()
    (models / f"{settings.pack}.json").write_text(json.dumps(manifest))
    for role in ("detector", "recognizer"):
        name = manifest[role]["file"]
        (models / settings.pack / name).symlink_to(settings.models_dir / settings.pack / name)
    (models / "licences").symlink_to(settings.models_dir / "licences")
    return dataclasses.replace(settings, models_dir=models)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path, help="a folder per identity, photos inside")
    parser.add_argument("--pack", default=Settings().pack, help="model pack (default: the default pack)")
    parser.add_argument("--draws", type=int, default=15, help="random galleries (default 15)")
    parser.add_argument("--size", type=int, default=30, help="people enrolled per draw (default 30)")
    parser.add_argument("--held-out", action="store_true", help="calibrate on half the single-photo people")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    args = parser.parse_args()

    people: dict[str, list[Path]] = {}
    for photo in sorted(args.dataset.glob("*/*")):
        if photo.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".bmp"):
            people.setdefault(photo.parent.name, []).append(photo)
    multi = sorted(p for p, photos in people.items() if len(photos) > 1)
    singles = sorted(p for p, photos in people.items() if len(photos) == 1)
    if len(multi) < args.size:
        print(
            f"{args.dataset}: {len(multi)} people have two or more photos, fewer than --size", file=sys.stderr
        )
        return 2
    rng = np.random.default_rng(args.seed)
    work = Path(tempfile.mkdtemp(prefix="frs-openset-check-"))
    settings = dataclasses.replace(Settings(), pack=args.pack)  # the defaults, apart from the pack
    strangers_single = set(singles)
    if args.held_out:
        order = rng.permutation(len(singles))
        half = len(singles) // 2
        calibrate_on = [singles[i] for i in order[:half]]
        strangers_single = {singles[i] for i in order[half:]}
        settings = held_out_settings(settings, people, calibrate_on, work)
        print(f"calibrated on {half} single-photo people; {len(strangers_single)} others are strangers")

    totals = {"named": 0, "strangers": 0, "missed": 0, "genuine": 0, "wrong": 0, "refused": 0}
    per_draw: list[tuple[float, float]] = []
    thresholds: set[float] = set()
    for draw in range(args.draws):
        service = FaceService(
            dataclasses.replace(settings, gallery_uri=str(work / f"g{draw}"), cache_dir=work / f"c{draw}")
        )
        chosen = [multi[i] for i in rng.choice(len(multi), args.size, replace=False)]
        enrolled = set(chosen)
        used: set[Path] = set()
        for person in chosen:  # in the drawn order, so a seed repeats the same photos
            for index in rng.permutation(len(people[person])):
                photo = people[person][index]
                try:
                    service.add(GALLERY, person, photo.read_bytes(), largest=True)
                except FRSError as error:
                    totals["refused"] += 1
                    print(f"  enrolment refused {photo.name}: {error.code}", flush=True)
                    continue
                used.add(photo)
                break
        named = strangers = missed = genuine = 0
        for person, photos in people.items():
            if person in singles and person not in strangers_single:
                continue
            for photo in photos:
                if photo in used:
                    continue
                answer = service.identify(GALLERY, photo.read_bytes())
                thresholds.add(answer["threshold"])
                face = central(answer)
                name = face["identity"] if face else None
                if person in enrolled:
                    genuine += 1
                    if name != person:
                        missed += 1
                        totals["wrong"] += name is not None
                else:
                    strangers += 1
                    named += name is not None
        per_draw.append((named / strangers, missed / genuine))
        for key, value in (
            ("named", named),
            ("strangers", strangers),
            ("missed", missed),
            ("genuine", genuine),
        ):
            totals[key] += value
        print(f"draw {draw}: FPIR {rate(named, strangers)}  FNIR {rate(missed, genuine)}", flush=True)
        clear_gallery_cache()

    fpir = np.array([d[0] for d in per_draw])
    fnir = np.array([d[1] for d in per_draw])
    meeting = int(((fpir <= 0.01) & (fnir <= 0.03)).sum())
    print(
        f"\npack {args.pack}, {args.size} enrolled, {args.draws} draws"
        + (" (held out)" if args.held_out else "")
    )
    print(f"FPIR {rate(totals['named'], totals['strangers'])}; per draw max {100 * fpir.max():.2f}%")
    print(f"FNIR {rate(totals['missed'], totals['genuine'])}; per draw max {100 * fnir.max():.2f}%; "
          f"named as someone else {totals['wrong']}")  # fmt: skip
    print(f"draws with FPIR <= 1% and FNIR <= 3%: {meeting}/{args.draws}")
    print(f"thresholds used: {sorted(thresholds)}; enrolment refusals: {totals['refused']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
