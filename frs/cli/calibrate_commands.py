"""``frs calibrate DATASET``: measure the --pack's impostor scores and store its calibration record;
``--check``: calibrate on half the people and measure the operating point on the other half instead."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from frs.decision.calibration import DEFAULT_PROBE_CAP
from frs.decision.operating_point import threshold_for, threshold_for_far
from frs.errors import FRSError
from frs.evaluation.protocol import DEFAULT_MATED_CAP
from frs.service import FaceService

#: Gallery sizes (enrolled faces) the command prints thresholds for, so a user sees how N moves them.
SHOWN_SIZES = (1, 10, 30, 100, 1000, 10000)


def _positive_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(item) for item in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="calibrate the --pack's operating points on DATASET/<identity>/<photos> (--check: test them)",
        description="Embed every photo of DATASET (a folder per identity; the face nearest the centre of "
        "each photo) with the --pack's own pipeline, score every pair of different people (each identity "
        'weighing one), and store the record under "calibration" in the pack manifest (atomically; the rest '
        "of the file is kept as it is), or in --out. Use photos of the kind of people the deployment will "
        "see, and many identities (the shipped records use lfw-dev: 3,568 people). The record holds "
        "statistics only. With --check nothing is stored: the people are split in halves, each half "
        "calibrates and the other is searched (frs eval's open-set protocol), and the realised FPIR and FNIR "
        "per gallery size are printed beside the oracle's (the same searches at the threshold giving exactly "
        "the target FPIR).",
    )
    calibrate.add_argument("dataset", help="folder with one sub-folder of photos per identity")
    calibrate.add_argument(
        "--out", help="write the record (with --check: the check's result) to this JSON file instead"
    )
    calibrate.add_argument(
        "--group-size",
        type=int,
        default=0,
        help="take impostor pairs only inside look-alike groups of about this many faces, for a deployment "
        "whose strangers all look like its enrolled people (default 0: every pair of people)",
    )
    calibrate.add_argument(
        "--probe-cap",
        type=int,
        default=DEFAULT_PROBE_CAP,
        help=f"photos of one person that count as strangers at most (default {DEFAULT_PROBE_CAP}; 0: all)",
    )
    calibrate.add_argument(
        "--label", help="how the record names the dataset (default: the folder's name; never a photo)"
    )
    check = calibrate.add_argument_group("--check: the operating point on people the calibration never saw")
    check.add_argument("--check", action="store_true", help="measure instead of storing (see above)")
    check.add_argument("--splits", type=int, default=5, help="random halvings of the people (default 5)")
    check.add_argument("--draws", type=int, default=4, help="galleries per size, split and half (default 4)")
    check.add_argument(
        "--gallery-sizes",
        type=_positive_list,
        default=(10, 30, 100, 300, 1000),
        help="people enrolled, comma-separated (default 10,30,100,300,1000; sizes a half cannot hold "
        "are skipped and listed)",
    )
    check.add_argument(
        "--photos",
        type=_positive_list,
        default=(1,),
        help="photos enrolled per person, comma-separated (default 1; e.g. 1,2,3)",
    )
    check.add_argument(
        "--mated-cap",
        type=int,
        default=DEFAULT_MATED_CAP,
        help=f"searches per enrolled person at most (default {DEFAULT_MATED_CAP}; 0: every other photo)",
    )
    check.add_argument("--seed", type=int, default=0, help="seed of the splits and draws (default 0)")
    check.add_argument("--target-fpir", type=float, help="the FPIR to check (default FRS_TARGET_FPIR)")
    calibrate.set_defaults(run=_calibrate)


def _calibrate(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.decision.calibrate import calibrate_dataset, embed_dataset, store_record
    from frs.evaluation.dataset import scan_dataset

    if args.group_size < 0 or args.group_size == 1:
        raise FRSError("bad_request", f"--group-size must be 0 or at least 2, got {args.group_size}")
    if args.probe_cap < 0:
        raise FRSError("bad_request", f"--probe-cap must be 0 or more, got {args.probe_cap}")
    root = Path(args.dataset)
    analyzer = service.analyzer
    identities = scan_dataset(root)
    if args.check:
        embedded = embed_dataset(analyzer, identities, progress=True)
        return _check(service, args, identities, embedded)
    record, embedded = calibrate_dataset(
        analyzer,
        identities,
        dataset=args.label or root.resolve().name,
        group_size=args.group_size or None,
        probe_cap=args.probe_cap or None,
        progress=True,
    )
    written = store_record(record, manifest=analyzer.manifest.path, out=Path(args.out) if args.out else None)
    # The thresholds identify and verify will use with this record, at the configured targets.
    fpir, far = service.settings.target_fpir, service.settings.target_far
    curve = record.impostors
    return {
        "pack": record.pack,
        "written": str(written),
        "faces": record.faces,
        "identities": record.identities,
        "population": curve.population,
        "groups": curve.groups,
        "impostor_pairs": curve.impostor_pairs,
        "effective_pairs_of_people": curve.effective_pairs,
        "measured_down_to": curve.measured_down_to,
        "skipped": embedded.skipped,
        "identify_thresholds": {
            f"target_fpir={fpir:g}": {
                str(n): round(threshold_for(fpir, n, record).threshold, 4) for n in SHOWN_SIZES
            },
            "measured_gallery_size": threshold_for(fpir, 1, record).measured_gallery_size,
        },
        "verify_threshold": {f"target_far={far:g}": round(threshold_for_far(far, record).threshold, 4)},
    }


def _check(service: FaceService, args: argparse.Namespace, identities: Any, embedded: Any) -> dict[str, Any]:
    import json

    import numpy as np

    from frs.decision.calibration import calibrate_pack
    from frs.evaluation.embeddings import ImageVectors
    from frs.evaluation.heldout import CheckPlan, check_calibration

    plan = CheckPlan(
        splits=args.splits,
        draws=args.draws,
        gallery_sizes=tuple(args.gallery_sizes),
        photos=tuple(args.photos),
        target_fpir=service.settings.target_fpir if args.target_fpir is None else args.target_fpir,
        mated_cap=args.mated_cap or None,
        seed=args.seed,
    )
    if not 0.0 < plan.target_fpir < 1.0:
        raise FRSError("bad_request", f"--target-fpir must be in (0, 1), got {plan.target_fpir}")
    images = ImageVectors(Path(args.dataset))
    found = dict(zip(embedded.paths, embedded.embeddings, strict=True))
    for paths in identities.values():
        for path in paths:
            vector = found.get(path)
            images.vectors[path] = None if vector is None else np.asarray(vector, dtype=np.float32)

    def calibrate(vectors: np.ndarray, labels: list[str]) -> Any:
        return calibrate_pack(
            vectors,
            labels,
            pack=service.settings.pack,
            dataset="half",
            group_size=args.group_size or None,
            probe_cap=args.probe_cap or None,
        )

    from frs.evaluation.machine import utc_now
    from frs.evaluation.report.heldout import CHECK_SCHEMA

    started = utc_now()
    checked = check_calibration(identities, images, plan, calibrate)
    result = {
        "schema": CHECK_SCHEMA,
        "measured_at": started,
        "command": _check_command(service, args, plan),
        "dataset": Path(args.dataset).resolve().name,
        "pack": service.settings.pack,
        **checked,
    }
    if args.out:
        try:
            Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise FRSError("bad_request", f"cannot write {args.out}: {exc.strerror}") from exc
    return result


def _check_command(service: FaceService, args: argparse.Namespace, plan: Any) -> str:
    """The command that reproduces a check, every choice spelt out."""
    import shlex

    parts = ["frs", "--pack", service.settings.pack, "calibrate", args.dataset, "--check"]
    parts += ["--splits", str(plan.splits), "--draws", str(plan.draws)]
    parts += ["--gallery-sizes", ",".join(map(str, plan.gallery_sizes))]
    parts += ["--photos", ",".join(map(str, plan.photos)), "--mated-cap", str(args.mated_cap)]
    parts += ["--seed", str(plan.seed), "--target-fpir", f"{plan.target_fpir:g}"]
    parts += ["--group-size", str(args.group_size), "--probe-cap", str(args.probe_cap)]
    return shlex.join([*parts, *(["--out", args.out] if args.out else [])])
