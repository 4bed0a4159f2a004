"""``frs calibrate DATASET``: measure the --pack's impostor scores and store its calibration record."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from frs.decision.calibration import DEFAULT_GROUP_SIZE
from frs.decision.operating_point import threshold_for, threshold_for_far
from frs.service import FaceService

#: Gallery sizes (enrolled faces) the command prints thresholds for, so a user sees how N moves them.
SHOWN_SIZES = (1, 10, 30, 100, 1000)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="calibrate the --pack's operating points on DATASET/<identity>/<photos>",
        description="Embed every photo of DATASET (a folder per identity; the face nearest the centre of "
        "each photo) with the --pack's own pipeline, measure impostor scores inside look-alike groups, and "
        'store the record under "calibration" in the pack manifest (atomically; the rest of the file is '
        "kept as it is), or in --out. Use photos of the kind of people the deployment will see, and many "
        "identities (the shipped records use lfw-dev: 1,468 people). The record holds statistics only.",
    )
    calibrate.add_argument("dataset", help="folder with one sub-folder of photos per identity")
    calibrate.add_argument("--out", help="write the record to this JSON file instead of the pack manifest")
    calibrate.add_argument(
        "--group-size",
        type=int,
        default=DEFAULT_GROUP_SIZE,
        help=f"faces per look-alike group impostor pairs are taken in (default {DEFAULT_GROUP_SIZE}; "
        "0: every pair, for a population as varied as the deployment's strangers)",
    )
    calibrate.add_argument(
        "--label", help="how the record names the dataset (default: the folder's name; never a photo)"
    )
    calibrate.set_defaults(run=_calibrate)


def _calibrate(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.decision.calibrate import calibrate_dataset, store_record
    from frs.evaluation.dataset import scan_dataset

    root = Path(args.dataset)
    analyzer = service.analyzer
    record, embedded = calibrate_dataset(
        analyzer,
        scan_dataset(root),
        dataset=args.label or root.resolve().name,
        group_size=args.group_size or None,
        progress=True,
    )
    written = store_record(record, manifest=analyzer.manifest.path, out=Path(args.out) if args.out else None)
    # The thresholds identify and verify will use with this record, at the configured targets.
    fpir, far = service.settings.target_fpir, service.settings.target_far
    return {
        "pack": record.pack,
        "written": str(written),
        "faces": record.faces,
        "identities": record.identities,
        "groups": record.groups,
        "impostor_pairs": record.impostor_pairs,
        "skipped": embedded.skipped,
        "identify_thresholds": {
            f"target_fpir={fpir:g}": {
                str(n): round(threshold_for(fpir, n, record).threshold, 4) for n in SHOWN_SIZES
            }
        },
        "verify_threshold": {f"target_far={far:g}": round(threshold_for_far(far, record).threshold, 4)},
    }
