"""``frs eval``, ``frs bench`` and ``frs report``: measured accuracy and speed, and report.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from frs.config import REPO_ROOT
from frs.errors import FRSError
from frs.service import FaceService

DEFAULT_OUT = REPO_ROOT / "out"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser("eval", help="accuracy on DATASET_DIR/<identity>/<images> (or --pairs CSV)")
    evaluate.add_argument("dataset", nargs="?", help="dataset directory")
    evaluate.add_argument("--pairs", help="CSV with columns a,b,same (paths relative to the CSV)")
    evaluate.add_argument("--k", type=int, default=1, help="gallery images per identity (default 1)")
    evaluate.add_argument("--unknown-share", type=float, default=0.2, help="identities held out as unknowns")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the gallery/probe/unknown split")
    evaluate.add_argument(
        "--out", default=str(DEFAULT_OUT / "eval"), help="output directory (JSON, PNG plots)"
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

    report = sub.add_parser("report", help="render report.md from the last eval and bench runs")
    report.add_argument(
        "--eval", default=str(DEFAULT_OUT / "eval" / "eval.json"), help="frs eval's JSON (out/eval/eval.json)"
    )
    report.add_argument(
        "--bench", default=str(DEFAULT_OUT / "bench.json"), help="frs bench's JSON (out/bench.json)"
    )
    report.add_argument("--out", default=str(REPO_ROOT / "report.md"), help="Markdown to write (report.md)")
    report.set_defaults(run=_report)


def _eval(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.evaluation.artifacts import save_evaluation
    from frs.evaluation.runner import evaluate_dataset, evaluate_pairs

    analyzer = service.analyzer

    def embed(path: Path) -> list[Any]:
        return list(analyzer.analyze(path.read_bytes()).faces)

    if args.pairs:
        result = evaluate_pairs(Path(args.pairs), embed, analyzer.match_threshold, pack=analyzer.pack)
    elif args.dataset:
        result = evaluate_dataset(
            Path(args.dataset),
            embed,
            k=args.k,
            unknown_share=args.unknown_share,
            seed=args.seed,
            threshold=analyzer.match_threshold,
            pack=analyzer.pack,
        )
    else:
        raise FRSError("bad_request", "give a dataset directory or --pairs CSV")
    written = save_evaluation(result, Path(args.out))
    for name, path in written.items():
        print(f"wrote {name}: {path}", file=sys.stderr)
    return result.to_dict()


def _bench(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    from frs.bench.run import run_bench, summary_rows

    result = run_bench(service.settings, Path(args.photos), quick=args.quick, skip=args.skip)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    width = max(len(k) for k, _ in summary_rows(result))
    for key, value in summary_rows(result):
        print(f"{key:<{width}}  {value}", file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return result


def _load(path: str) -> dict[str, Any] | None:
    file = Path(path)
    if not file.is_file():
        print(f"note: {file} not found; that section is left out", file=sys.stderr)
        return None
    value: dict[str, Any] = json.loads(file.read_text())
    return value


def _report(service: FaceService, args: argparse.Namespace) -> dict[str, Any]:
    import os

    from frs.evaluation.report import machine_info, render_report

    eval_json = _load(args.eval)
    if eval_json is not None and isinstance(eval_json.get("plots"), dict):
        # Plot names are relative to eval.json; the report links them relative to itself.
        report_dir = Path(args.out).resolve().parent
        eval_dir = Path(args.eval).resolve().parent
        eval_json["plots"] = {
            name: os.path.relpath(eval_dir / str(path), report_dir)
            for name, path in eval_json["plots"].items()
        }
    commands = [
        "make install models testdata",
        ".venv/bin/frs testdata dataset --dest out/dataset",
        f".venv/bin/frs eval out/dataset --out {os.path.relpath(Path(args.eval).parent, REPO_ROOT)}",
        f".venv/bin/frs bench --out {os.path.relpath(args.bench, REPO_ROOT)}",
        ".venv/bin/frs report "
        + " ".join(
            f"--{k} {os.path.relpath(v, REPO_ROOT)}" for k, v in (("eval", args.eval), ("bench", args.bench))
        ),
    ]
    text = render_report(eval_json, _load(args.bench), machine_info(), commands)
    Path(args.out).write_text(text)
    return {"report": args.out, "characters": len(text)}
