"""Issue 20's degraded-copy table: faces found, FNIR and FPIR on dark, low-contrast, grayscale and noisy
copies of a dataset's photos, with the illumination step off and on (``frs.evaluation.degraded.suite``).

    .venv/bin/python scripts/degraded_check.py DATASET --out docs/report/degraded-lfw-dev-open.json \
        [--pack open] [--sizes 100,1000] [--strangers 200] [--conditions "clean,grayscale"]

``frs report --degraded FILE`` renders the JSON; ``make bench`` runs it with EVAL_DATASET.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

from frs.config import Settings
from frs.decision.operating_point import threshold_for
from frs.evaluation.dataset import scan_dataset
from frs.evaluation.degraded.conditions import CONDITIONS, by_name
from frs.evaluation.degraded.suite import Plan, Vector, run_suite
from frs.pipeline.analyzer import FaceAnalyzer, load_analyzer
from frs.pipeline.illumination import DETECT, OFF


def embed_with(analyzer: FaceAnalyzer):  # type: ignore[no-untyped-def]
    def embed(data: bytes) -> Vector | None:
        faces = analyzer.analyze(data).faces
        if not faces:
            return None
        return max(faces, key=lambda face: face.area).embedding

    return embed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path, help="a folder per identity, photos inside")
    parser.add_argument("--out", type=Path, required=True, help="the JSON to write")
    parser.add_argument("--pack", default=Settings().pack)
    parser.add_argument("--sizes", default="100,1000", help="gallery sizes (default 100,1000)")
    parser.add_argument("--strangers", type=int, default=200, help="stranger searches per size (default 200)")
    parser.add_argument("--conditions", default=None, help="comma-separated condition names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    base = dataclasses.replace(Settings.from_env(), pack=args.pack)
    analyzers = {mode: load_analyzer(dataclasses.replace(base, illumination=mode)) for mode in (OFF, DETECT)}
    calibration = analyzers[OFF].calibration
    if calibration is None:
        print(f"pack {args.pack} has no calibration record", file=sys.stderr)
        return 2
    plan = Plan(
        gallery_sizes=tuple(int(s) for s in args.sizes.split(",")),
        strangers=args.strangers,
        target_fpir=base.target_fpir,
        seed=args.seed,
    )
    result = run_suite(
        scan_dataset(args.dataset),
        by_name(args.conditions) if args.conditions else CONDITIONS,
        {mode: embed_with(analyzer) for mode, analyzer in analyzers.items()},
        lambda target, size: threshold_for(target, size, calibration).threshold,
        plan,
        retry_modes=(DETECT,),
        progress=lambda line: print(line, flush=True),
    )
    result["pack"] = args.pack
    result["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    result["command"] = shlex.join(["scripts/degraded_check.py", *sys.argv[1:]])
    result["dataset"] = args.dataset.name
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
