"""Reading evaluation datasets: an identity-per-folder tree, or a pairs CSV.

Tree layout: ``DATASET_DIR/<identity>/<image>`` with images ending in .jpg, .jpeg, .png, .webp or .bmp (any
case). Hidden files and other files are ignored. Pairs layout: a CSV with columns ``a,b,same`` and, for
LFW-style k-fold accuracy (``frs.evaluation.folds``), an optional ``fold``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from frs.errors import FRSError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
PAIR_COLUMNS = ("a", "b", "same")
FOLD_COLUMN = "fold"
_TRUE = frozenset({"1", "true", "yes", "same"})
_FALSE = frozenset({"0", "false", "no", "different"})


def is_image(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def scan_dataset(root: Path) -> dict[str, list[Path]]:
    """Identity name -> its image paths sorted by file name. Folders without images are left out."""
    if not root.is_dir():
        raise FRSError("bad_request", f"dataset directory not found: {root}")
    identities: dict[str, list[Path]] = {}
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        images = sorted((p for p in folder.iterdir() if is_image(p)), key=lambda p: p.name)
        if images:
            identities[folder.name] = images
    if not identities:
        raise FRSError(
            "bad_request",
            f"no images found under {root}; expected {root}/<identity>/<image> with suffixes "
            + ", ".join(sorted(IMAGE_SUFFIXES)),
        )
    return identities


# ----------------------------------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class ImagePair:
    a: Path
    b: Path
    same: bool
    line: int  # line in the CSV, for messages
    fold: str | None = None  # the CSV's fold column, when it has one


def _parse_same(raw: str, line: int) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise FRSError(
        "bad_request",
        f"line {line}: 'same' must be one of 1/0, true/false, yes/no, same/different; got {raw!r}",
    )


def _resolve(base: Path, raw: str, column: str, line: int) -> Path:
    text = raw.strip()
    if not text:
        raise FRSError("bad_request", f"line {line}: column {column!r} is empty")
    path = Path(text)
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise FRSError("bad_request", f"line {line}: image {text!r} not found (looked for {path})")
    return path


def read_pairs(csv_path: Path) -> list[ImagePair]:
    """Read a pairs CSV: header with at least ``a,b,same``; image paths relative to the CSV's folder.

    ``same`` accepts 1/0, true/false, yes/no, same/different (any case). A ``fold`` column, when present,
    must be filled on every line. Every problem is an ``FRSError("bad_request")`` naming the line; nothing
    is skipped silently.
    """
    if not csv_path.is_file():
        raise FRSError("bad_request", f"pairs file not found: {csv_path}")
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            missing = [column for column in PAIR_COLUMNS if column not in header]
            if missing:
                raise FRSError(
                    "bad_request",
                    f"{csv_path}: missing column(s) {', '.join(missing)}; the header must name a,b,same "
                    f"(found: {', '.join(header) or 'nothing'})",
                )
            reader.fieldnames = header
            # line_num rather than a counter: DictReader skips blank lines.
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise FRSError("bad_request", f"{csv_path} is not UTF-8 text") from exc
    except csv.Error as exc:
        raise FRSError("bad_request", f"{csv_path}: malformed CSV ({exc})") from exc

    base = csv_path.parent
    has_folds = FOLD_COLUMN in header
    required = (*PAIR_COLUMNS, FOLD_COLUMN) if has_folds else PAIR_COLUMNS
    pairs: list[ImagePair] = []
    for number, row in rows:
        if None in row or any(row.get(column) is None for column in required):
            raise FRSError("bad_request", f"line {number}: expected {len(header)} fields")
        fold = row[FOLD_COLUMN].strip() if has_folds else None
        if fold == "":
            raise FRSError("bad_request", f"line {number}: column 'fold' is empty")
        pairs.append(
            ImagePair(
                a=_resolve(base, row["a"], "a", number),
                b=_resolve(base, row["b"], "b", number),
                same=_parse_same(row["same"], number),
                line=number,
                fold=fold,
            )
        )
    if not pairs:
        raise FRSError("bad_request", f"{csv_path} has no pairs")
    return pairs
