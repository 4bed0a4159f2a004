"""``frs eval``, ``frs bench`` and ``frs report``: measured accuracy and speed, and report.md."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from frs.config import REPO_ROOT, Settings
from frs.errors import FRSError
from frs.evaluation.protocol import DEFAULT_MATED_CAP
from frs.service import FaceService

if TYPE_CHECKING:
    from frs.decision.calibration import Calibration

DEFAULT_OUT = REPO_ROOT / "out"


PEERS = ("face_recognition",)
FACE_RULES = ("largest", "centre")  # frs.evaluation.embeddings.FACE_RULES, without its imports at start-up


def _rate(raw: str) -> float:
    """A target rate from the command line, strictly between 0 and 1."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {raw!r}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser(
        "eval",
        help="open-set identification (FNIR at FPIR, DET) and verification (ROC) on a dataset or pairs CSV",
    )
    evaluate.add_argument(
        "dataset", nargs="?", help="dataset directory: DATASET/<identity>/<images> (or give --pairs)"
    )
    evaluate.add_argument(
        "--pairs", help="verification only, on a CSV with columns a,b,same (paths relative to it)"
    )
    evaluate.add_argument(
        "--gallery-sizes",
        default="10,30,100,300,1000",
        help="enrolled identities per gallery, comma-separated; 'all' = as many as have 2+ photos "
        "(default 10,30,100,300,1000; past half of those, people with fewer photos fill the gallery; "
        "sizes the dataset cannot hold are skipped)",
    )
    evaluate.add_argument("--draws", type=int, default=10, help="random galleries per size (default 10)")
    evaluate.add_argument(
        "--mated-cap",
        type=int,
        default=DEFAULT_MATED_CAP,
        help=f"mated searches per enrolled person at most, chosen at random (default {DEFAULT_MATED_CAP}; "
        "0: every other photo), so people with hundreds of photos do not dominate FNIR",
    )
    evaluate.add_argument(
        "--photos-per-person", type=int, default=1, help="photos enrolled per person (default 1)"
    )
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    evaluate.add_argument(
        "--face",
        choices=FACE_RULES,
        default="largest",
        help="the face a photo with several stands for: the largest box (default, as add --largest enrols) "
        "or the one nearest the photo's centre (datasets cut around the labelled person, such as LFW)",
    )
    evaluate.add_argument(
        "--peer",
        action="append",
        choices=PEERS,
        default=[],
        help="also measure this library on the same images and protocol (face_recognition: dlib)",
    )
    evaluate.add_argument(
        "--target-fpir",
        type=_rate,
        help="FPIR the default 1:N point aims at, with a calibrated pack (default FRS_TARGET_FPIR, "
        f"{Settings.target_fpir:g})",
    )
    evaluate.add_argument(
        "--target-far",
        type=_rate,
        help="FAR the default 1:1 point aims at, with a calibrated pack (default FRS_TARGET_FAR, "
        f"{Settings.target_far:g})",
    )
    evaluate.add_argument(
        "--calibration",
        help="a calibration record (JSON: a manifest's 'calibration' value) to use instead of the pack's",
    )
    evaluate.add_argument(
        "--out",
        default=str(DEFAULT_OUT / "eval"),
        help="output directory: eval.json and PNG plots (out/eval)",
    )
    evaluate.set_defaults(run=_eval)

    from frs.bench import SECTIONS

    bench = sub.add_parser(
        "bench",
        help="cold start, latency, throughput, peers (FaceAnalysis, face_recognition, SCRFD), search scaling",
    )
    bench.add_argument(
        "--photos", default=str(REPO_ROOT / ".cache" / "testdata"), help="photos to time (.cache/testdata)"
    )
    bench.add_argument("--quick", action="store_true", help="few runs: a smoke test, not figures to report")
    bench.add_argument(
        "--out", default=str(DEFAULT_OUT / "bench.json"), help="JSON to write (out/bench.json)"
    )
    bench.add_argument("--skip", nargs="+", default=[], choices=SECTIONS, help="sections to leave out")
    bench.set_defaults(run=_bench)

    report = sub.add_parser("report", help="render report.md from frs eval and frs bench output")
    report.add_argument(
        "--eval",
        action="append",
        default=[],
        help="an eval.json of frs eval; repeat for several datasets or packs, in the order to show "
        "(default out/eval/eval.json)",
    )
    report.add_argument(
        "--bench", default=str(DEFAULT_OUT / "bench.json"), help="frs bench's JSON (out/bench.json)"
    )
    report.add_argument(
        "--check",
        action="append",
        default=[],
        help="a result of frs calibrate DATASET --check --out FILE (operating points on unseen people)",
    )
    report.add_argument(
        "--methods", action="append", default=[], help="a result of scripts/openset_methods.py"
    )
    report.add_argument(
        "--degraded",
        action="append",
        default=[],
        help="a result of scripts/degraded_check.py (low light, noise)",
    )
    report.add_argument(
        "--tight-crops",
        action="append",
        default=[],
        help="a result of scripts/tight_crop_check.py (frame-filling faces)",
    )
    report.add_argument("--out", default=str(REPO_ROOT / "report.md"), help="Markdown to write (report.md)")
    report.set_defaults(run=_report)


def _targets(service: FaceService, args: argparse.Namespace) -> tuple[float, float]:
    """The run's FPIR and FAR targets: the options, else the service's (FRS_TARGET_FPIR, FRS_TARGET_FAR)."""
    settings = service.settings
    return args.target_fpir or settings.target_fpir, args.target_far or settings.target_far


def _calibration(path: str) -> Calibration:
    from frs.decision.calibration import calibration_from_dict

    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise FRSError("bad_request", f"cannot read the calibration record {path}: {exc}") from exc
    return calibration_from_dict(record.get("calibration", record) if isinstance(record, dict) else record)


def _eval_command(service: FaceService, args: argparse.Namespace, fpir: float, far: float) -> str:
    """The complete command that reproduces this run (every choice spelt out, defaults included)."""
    parts = ["frs", "--pack", service.settings.pack]
    if service.settings.match_threshold is not None:
        parts += ["--threshold", str(service.settings.match_threshold)]
    if args.pairs:
        parts += ["eval", "--pairs", args.pairs]
    else:
        parts += ["eval", args.dataset, "--gallery-sizes", args.gallery_sizes]
        parts += ["--draws", str(args.draws), "--seed", str(args.seed)]
        parts += ["--mated-cap", str(args.mated_cap), "--photos-per-person", str(args.photos_per_person)]
    parts += ["--face", args.face]
    for peer in args.peer:
        parts += ["--peer", peer]
    parts += ["--target-fpir", f"{fpir:g}", "--target-far", f"{far:g}"]
    if args.calibration:
        parts += ["--calibration", args.calibration]
    return shlex.join([*parts, "--out", args.out])


def _eval(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.evaluation.artifacts import save_evaluation
    from frs.evaluation.protocol import parse_gallery_sizes
    from frs.evaluation.runner import Protocol, evaluate_dataset, evaluate_pairs
    from frs.evaluation.systems import EvalSystem, frs_system, pack_calibration

    if not args.pairs and not args.dataset:
        raise FRSError("bad_request", "give a dataset directory or --pairs CSV")
    if args.draws < 1:
        raise FRSError("bad_request", f"--draws must be at least 1, got {args.draws}")
    if args.mated_cap < 0 or args.photos_per_person < 1:
        raise FRSError("bad_request", "--mated-cap must be 0 or more and --photos-per-person at least 1")
    sizes = parse_gallery_sizes(args.gallery_sizes)
    fpir, far = _targets(service, args)
    analyzer = service.analyzer
    calibration = _calibration(args.calibration) if args.calibration else pack_calibration(analyzer)
    systems: list[EvalSystem] = [
        frs_system(
            analyzer,
            target_fpir=fpir,
            target_far=far,
            explicit_threshold=service.settings.match_threshold,
            calibration=calibration,
        )
    ]
    if "face_recognition" in args.peer:
        from frs.evaluation.face_recognition_peer import face_recognition_system

        systems.append(face_recognition_system())
    command = _eval_command(service, args, fpir, far)
    if args.pairs:
        result = evaluate_pairs(Path(args.pairs), systems, face_rule=args.face, command=command)
    else:
        protocol = Protocol(
            gallery_sizes=sizes,
            draws=args.draws,
            seed=args.seed,
            photos=args.photos_per_person,
            mated_cap=args.mated_cap or None,
            face_rule=args.face,
        )
        result = evaluate_dataset(Path(args.dataset), systems, protocol=protocol, command=command)
    written = save_evaluation(result, Path(args.out))
    for name, path in written.items():
        print(f"wrote {name}: {path}", file=sys.stderr)
    return {"written": {name: str(path) for name, path in written.items()}, "duration_s": result.duration_s}


def _shown(path: str) -> str:
    """A path as the command should show it: relative when inside the repository (the default photos)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else path


def _bench_command(service: FaceService, args: argparse.Namespace) -> str:
    parts = ["frs", "--pack", service.settings.pack, "bench", "--photos", _shown(args.photos)]
    if args.quick:
        parts.append("--quick")
    if args.skip:
        parts += ["--skip", *args.skip]
    return shlex.join([*parts, "--out", args.out])


def _bench(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.bench.run import run_bench, summary_rows

    result = run_bench(
        service.settings,
        Path(args.photos),
        quick=args.quick,
        skip=args.skip,
        command=_bench_command(service, args),
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    rows = summary_rows(result)
    width = max((len(k) for k, _ in rows), default=0)
    for key, value in rows:
        print(f"{key:<{width}}  {value}", file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return result


def _load(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        print(f"note: {path} not found; that section is left out", file=sys.stderr)
        return None
    try:
        value = json.loads(path.read_text())
    except ValueError as exc:
        raise FRSError("bad_request", f"{path} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise FRSError("bad_request", f"{path} is not a measurement file (a JSON object)")
    return value


def _relink_plots(eval_json: dict[str, Any], eval_path: Path, report_dir: Path) -> None:
    """Plot names are relative to eval.json; the report links them relative to itself."""
    import os

    for system in eval_json.get("systems") or []:
        if isinstance(system, dict) and isinstance(system.get("plots"), dict):
            system["plots"] = {
                kind: Path(os.path.relpath(eval_path.resolve().parent / str(name), report_dir)).as_posix()
                for kind, name in system["plots"].items()
            }


def _report(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.evaluation.report import render_report

    out = Path(args.out)
    report_dir = out.resolve().parent
    evals = []
    for raw in args.eval or [str(DEFAULT_OUT / "eval" / "eval.json")]:
        path = Path(raw)
        loaded = _load(path)
        if loaded is not None:
            _relink_plots(loaded, path, report_dir)
            evals.append(loaded)
    bench = _load(Path(args.bench))
    checks = [c for c in (_load(Path(raw)) for raw in args.check) if c is not None]
    methods = [m for m in (_load(Path(raw)) for raw in args.methods) if m is not None]
    degraded = [d for d in (_load(Path(raw)) for raw in args.degraded) if d is not None]
    tight = [t for t in (_load(Path(raw)) for raw in args.tight_crops) if t is not None]
    measured = [
        str(m["command"])
        for m in (*evals, *checks, *methods, *degraded, *tight, bench)
        if m and m.get("command")
    ]
    report_command = ["frs", "report", *(part for e in args.eval for part in ("--eval", e))]
    report_command += [*(part for c in args.check for part in ("--check", c))]
    report_command += [*(part for m in args.methods for part in ("--methods", m))]
    report_command += [*(part for d in args.degraded for part in ("--degraded", d))]
    report_command += [*(part for t in args.tight_crops for part in ("--tight-crops", t))]
    commands = [*measured, shlex.join([*report_command, "--bench", args.bench, "--out", args.out])]
    text = render_report(
        evals, bench, commands, checks=checks, methods=methods, degraded=degraded, tight_crops=tight
    )
    out.write_text(text)
    return {
        "report": str(out),
        "evaluations": len(evals),
        "bench": bench is not None,
        "characters": len(text),
    }
