"""Reading evaluation datasets: an identity-per-folder tree, split into gallery and probes, or a pairs CSV.

Tree layout: ``DATASET_DIR/<identity>/<image>`` with images ending in .jpg, .jpeg, .png, .webp or .bmp (any
case). Hidden files and other files are ignored. Pairs layout: a CSV with columns ``a,b,same``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frs.errors import FRSError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
PAIR_COLUMNS = ("a", "b", "same")
_TRUE = frozenset({"1", "true", "yes", "same"})
_FALSE = frozenset({"0", "false", "no", "different"})


@dataclass(frozen=True)
class LabeledImage:
    path: Path
    identity: str


@dataclass(frozen=True)
class DatasetSplit:
    """Who is enrolled with which images, and which images are searched for (probes).

    ``gallery`` maps each enrolled identity to its first ``k`` images. ``probes`` holds the remaining images
    of enrolled identities plus every image of the held-out ``unknown_identities``.
    """

    gallery: dict[str, tuple[Path, ...]]
    probes: tuple[LabeledImage, ...]
    unknown_identities: tuple[str, ...]

    def all_images(self) -> list[LabeledImage]:
        """Every image of the dataset once: gallery images first, then probes."""
        enrolled = [LabeledImage(path, name) for name, paths in self.gallery.items() for path in paths]
        return enrolled + list(self.probes)


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


def split_dataset(
    identities: Mapping[str, Sequence[Path]], *, k: int = 1, unknown_share: float = 0.2, seed: int = 0
) -> DatasetSplit:
    """Split identities into gallery and probes.

    A share ``unknown_share`` of the identities (rounded, chosen by a seeded shuffle of the sorted names,
    always leaving at least one enrolled) is held out: all their images are probes of unknown people. Each
    other identity enrols its first ``k`` images (by file name); its remaining images are probes. An identity
    with ``k`` images or fewer is enrolled with all of them and has no probes; it still competes in searches.
    """
    if k < 1:
        raise FRSError("bad_request", f"k must be at least 1, got {k}")
    if not 0.0 <= unknown_share < 1.0:
        raise FRSError("bad_request", f"unknown share must be in [0, 1), got {unknown_share}")
    if not identities:
        raise FRSError("bad_request", "the dataset has no identities")
    names = sorted(identities)
    n_unknown = min(int(unknown_share * len(names) + 0.5), len(names) - 1)
    shuffled = np.random.default_rng(seed).permutation(len(names))
    unknown = sorted(names[i] for i in shuffled[:n_unknown])
    unknown_set = set(unknown)

    gallery: dict[str, tuple[Path, ...]] = {}
    probes: list[LabeledImage] = []
    for name in names:
        images = sorted(identities[name], key=lambda p: p.name)
        if name in unknown_set:
            probes.extend(LabeledImage(path, name) for path in images)
            continue
        gallery[name] = tuple(images[:k])
        probes.extend(LabeledImage(path, name) for path in images[k:])
    return DatasetSplit(gallery=gallery, probes=tuple(probes), unknown_identities=tuple(unknown))


def load_split(root: Path, *, k: int = 1, unknown_share: float = 0.2, seed: int = 0) -> DatasetSplit:
    """:func:`scan_dataset` followed by :func:`split_dataset`."""
    return split_dataset(scan_dataset(root), k=k, unknown_share=unknown_share, seed=seed)


# ----------------------------------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class ImagePair:
    a: Path
    b: Path
    same: bool
    line: int  # line in the CSV, for messages


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

    ``same`` accepts 1/0, true/false, yes/no, same/different (any case). Every problem is an
    ``FRSError("bad_request")`` naming the line; nothing is skipped silently.
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
    pairs: list[ImagePair] = []
    for number, row in rows:
        if None in row or any(row.get(column) is None for column in PAIR_COLUMNS):
            raise FRSError("bad_request", f"line {number}: expected {len(header)} fields")
        pairs.append(
            ImagePair(
                a=_resolve(base, row["a"], "a", number),
                b=_resolve(base, row["b"], "b", number),
                same=_parse_same(row["same"], number),
                line=number,
            )
        )
    if not pairs:
        raise FRSError("bad_request", f"{csv_path} has no pairs")
    return pairs
