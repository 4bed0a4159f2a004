"""Issue 20: the recognizer's flip (``recognizer.flip``: each aligned crop and its mirror embedded, averaged)
against the plain embedding, for each pack, side by side on one dataset with the same draws as ``frs eval``.
Long (about 4 minutes of embedding per system on 7,346 photos): run it by hand, never in tests.

    .venv/bin/python scripts/flip_study.py ../shared/datasets/lfw-dev out/flip.json open open+flip \
        embedded embedded+flip

A system is a pack name and variants: ``+flip`` switches the flip on, ``+up1.25`` caps the first pass's
enlargement of a small photo at 1.25x (``detector.max_upscale``), ``+upfit`` lifts any cap (enlarged to fit).
``+refine192x2.0m`` declares a second look at each face for its landmarks (``detector.refine``: crop
size, context, ``m`` for the mirrored copy averaged in). ``+rec=<pack>`` puts another pack's recogniser
behind this pack's detector (which half of a pack makes a difference). ``+tpl=<file.json>`` aligns on five
template points read from a JSON file (the landmarker's, else the detector's), ``+nomark`` drops the pack's
landmarker (the detector's landmarks align). The JSON is ``frs eval``'s
(``frs report --eval`` reads it); the table printed gives TAR at FAR 1% / 0.1% and FNIR at FPIR 1% per
gallery size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.config import Settings
from frs.evaluation.embeddings import FACE_RULES
from frs.evaluation.runner import Protocol, evaluate_dataset
from frs.evaluation.systems import EvalSystem, frs_system, pack_calibration
from frs.packs.manifest import RefineSpec, load_manifest
from frs.pipeline.analyzer import FaceAnalyzer

VARIANTS = "flip, up<factor>, upfit, rec=<pack>, refine<size>x<context>[m], tpl=<json>, nomark"


def system(spec: str) -> EvalSystem:
    pack, *variants = spec.split("+")
    settings = dataclasses.replace(Settings.from_env(), pack=pack)
    manifest = load_manifest(pack, settings.models_dir)
    recognizer, detector, landmarker = manifest.recognizer, manifest.detector, manifest.landmarker
    for variant in variants:
        if variant == "flip":
            recognizer = dataclasses.replace(recognizer, flip=True)
        elif variant == "upfit":
            detector = dataclasses.replace(detector, max_upscale=None)
        elif variant.startswith("rec="):  # another pack's recogniser behind this pack's detector
            other = variant.removeprefix("rec=")
            recognizer = dataclasses.replace(
                load_manifest(other, settings.models_dir).recognizer, from_pack=other
            )
        elif variant.startswith("refine"):  # refine<size>x<context>[m]: detector.refine, m = mirrored
            size, context = variant.removeprefix("refine").rstrip("m").split("x")
            refine = RefineSpec(int(size), float(context), variant.endswith("m"))
            detector = dataclasses.replace(detector, refine=refine)
        elif variant.startswith("tpl="):  # the alignment template of the landmarker (else the detector)
            points = tuple(tuple(p) for p in json.loads(Path(variant.removeprefix("tpl=")).read_text()))
            if landmarker is not None:
                landmarker = dataclasses.replace(landmarker, landmark_template=points)
            else:
                detector = dataclasses.replace(detector, landmark_template=points)
        elif variant == "nomark":  # without the pack's landmarker: the detector's landmarks align
            landmarker = None
        elif variant.startswith("up"):
            detector = dataclasses.replace(detector, max_upscale=float(variant[2:]))
        else:
            raise SystemExit(f"unknown variant {variant!r} in {spec!r} (known: {VARIANTS})")
    manifest = dataclasses.replace(manifest, recognizer=recognizer, detector=detector, landmarker=landmarker)
    analyzer = FaceAnalyzer(manifest, settings)
    measured = frs_system(
        analyzer,
        target_fpir=settings.target_fpir,
        target_far=settings.target_far,
        explicit_threshold=None,
        calibration=pack_calibration(analyzer),
    )
    return dataclasses.replace(measured, name=spec.replace("+", "_"), label=spec)


def table(result: dict[str, Any]) -> list[str]:
    lines = ["system | TAR @ FAR 1% | TAR @ FAR 0.1% | FNIR @ FPIR 1% per gallery size (misses / mated)"]
    for measured in result["systems"]:
        tars = {t["target_far"]: t["tar"] for t in measured["verification"]["tar_at_far"]}
        cells = [measured["name"], f"{tars[0.01]['rate']:.4f}", f"{tars[0.001]['rate']:.4f}"]
        for size in measured["identification"]["gallery_sizes"]:
            point = next(p for p in size["fnir_at_fpir"] if p["target_fpir"] == 0.01)
            fnir = point["fnir"]
            cells.append(f"N={size['gallery_size']} {fnir['rate']:.4f} ({fnir['count']}/{fnir['n']})")
        lines.append(" | ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("systems", nargs="+", help=f"pack[+variant...], variants: {VARIANTS}")
    parser.add_argument("--face", choices=FACE_RULES, default="largest", help="frs eval --face")
    args = parser.parse_args()
    result = evaluate_dataset(
        args.dataset,
        [system(spec) for spec in args.systems],
        protocol=Protocol(face_rule=args.face),
        command=" ".join(sys.argv),
    ).to_dict()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print("\n".join(table(result)))


if __name__ == "__main__":
    main()
