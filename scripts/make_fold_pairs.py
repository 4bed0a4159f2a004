"""Write an LFW-style 10-fold pairs CSV (columns a,b,same,fold) from an identity-per-folder dataset, for
``frs eval --pairs``, which then reports the k-fold accuracy beside TAR at FAR.

    .venv/bin/python scripts/make_fold_pairs.py ../shared/datasets/lfw-dev --out out/lfw-dev-folds.csv

Folds are disjoint by person; each has 300 genuine and 300 impostor pairs (``frs.evaluation.folds``).
The same dataset and --seed give the same file; image paths are written relative to the CSV's folder.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frs.evaluation.dataset import scan_dataset
from frs.evaluation.folds import DEFAULT_FOLDS, DEFAULT_PAIRS_PER_FOLD, make_fold_pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dataset", type=Path, help="DATASET/<identity>/<photos>")
    parser.add_argument("--out", type=Path, required=True, help="the CSV to write")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS)
    parser.add_argument("--pairs-per-fold", type=int, default=DEFAULT_PAIRS_PER_FOLD)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    root = args.dataset.resolve()
    photos = {
        name: [path.relative_to(root).as_posix() for path in paths]
        for name, paths in scan_dataset(root).items()
    }
    pairs = make_fold_pairs(photos, folds=args.folds, pairs_per_fold=args.pairs_per_fold, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    base = Path(os.path.relpath(root, args.out.resolve().parent))
    with args.out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "same", "fold"])
        for pair in pairs:
            a, b = (base / pair.a).as_posix(), (base / pair.b).as_posix()
            writer.writerow([a, b, int(pair.same), pair.fold])
    counts = Counter((pair.fold, pair.same) for pair in pairs)
    short = [fold for fold in range(args.folds) if counts[(fold, True)] < args.pairs_per_fold]
    print(f"wrote {args.out}: {len(pairs)} pairs in {args.folds} folds", file=sys.stderr)
    if short:
        print(f"folds with fewer genuine pairs than asked: {short}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
