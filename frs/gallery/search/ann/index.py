"""The HNSW index itself (USearch): build, patch to a newer gallery version, and the ``.ann`` file format.

File format (one object, so the tag and the graph can never be mixed up across versions)::

    b"FRSANN\\x00\\x01" | header length (uint32, little-endian) | header (JSON, UTF-8) | USearch index

The header names the gallery version the index describes (``tag``), the dimension, the face count and
how many faces were removed since the graph was last built from scratch. Files are opened with ``mmap`` and
the index is *viewed* in place (no copy, pages load on demand), which is what makes a cold start cheap.

Vectors are stored as int8 (USearch scales unit vectors by 127): a quarter of float32, and enough to *find*
candidates; every similarity FRS returns is recomputed from the gallery's float32 matrix.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import shutil
import struct
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

# Load order matters: usearch loads its NumKong kernels with RTLD_GLOBAL, after which importing onnxruntime
# segfaults in onnxruntime's module init (usearch 2.26.6, numkong 7.8.6, onnxruntime 1.32; Linux x86-64).
# onnxruntime first, then usearch works, with unchanged results from both. So load onnxruntime first.
with contextlib.suppress(ImportError):  # a gallery-only install has nothing to protect
    import onnxruntime  # noqa: F401
from usearch.index import Index

from frs.gallery.file.diskio import disk_errors, remove_quietly, temp_path
from frs.gallery.search.ann.keys import KeyLookup, Keys
from frs.gallery.types import Embedding

MAGIC = b"FRSANN\x00\x01"
FORMAT_VERSION = 1
ENGINE = "usearch"
DTYPE = "i8"
CONNECTIVITY = 16  # graph degree (M); not tuned further: 32 doubles the build time
EXPANSION_ADD = 64  # candidate list while inserting (efConstruction)
# Candidate list while searching (efSearch). scripts/bench_ann.py, clustered synthetic faces, recall@5 vs
# exact at 1024 / 2048 / 4096: 100k x 128-d 0.998 / 1.0 / 1.0; 100k x 512-d 0.989 / 0.999 / 1.0;
# 1M x 128-d 0.980 / 0.996 / 1.0; 1M x 512-d 0.88 / 0.95 / 0.982. Big, wide graphs need the longer list.
EXPANSION_SEARCH = 2048
EXPANSION_SEARCH_LARGE = 4096
LARGE_FACES = 300_000
LARGE_DIM = 256
_LENGTH = struct.Struct("<I")
_MAX_HEADER = 1 << 16


@dataclass(frozen=True)
class IndexHeader:
    """What an ``.ann`` file describes; ``tag`` identifies the gallery version (its write id)."""

    tag: str
    dim: int
    count: int
    removed_since_build: int
    engine: str = ENGINE
    engine_version: str = version("usearch")
    dtype: str = DTYPE
    connectivity: int = CONNECTIVITY
    format: int = FORMAT_VERSION


@dataclass
class LoadedIndex:
    """An index plus the header it came with; ``path`` is its ``.ann`` file in the local cache."""

    header: IndexHeader
    index: Index
    path: Path
    keepalive: Any = None  # the mmap a viewed index reads from; must live as long as the index


def expansion_search_for(count: int, dim: int) -> int:
    """efSearch for an index of ``count`` faces of ``dim`` dimensions."""
    return EXPANSION_SEARCH_LARGE if count > LARGE_FACES and dim > LARGE_DIM else EXPANSION_SEARCH


def new_index(dim: int, count: int) -> Index:
    """An empty index with FRS's parameters (inner product = cosine for unit vectors) for ~count faces."""
    index = Index(
        ndim=dim,
        metric="ip",
        dtype=DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=expansion_search_for(count, dim),
    )
    return index


# Insert on one thread: usearch 2.26.6's parallel insertion left 0.02-0.5% of the nodes unreachable (a search
# for the face's own vector does not return it; 4 of 20k faces, 37 of 20k in small graphs), never so on one
# thread. An enrolled face that can never be found is worse than a build that takes twice as long.
INSERT_THREADS = 1


def build(embeddings: Embedding, keys: Keys, *, threads: int = INSERT_THREADS) -> Index:
    """A fresh index of every row of ``embeddings`` under its key (``threads=0``: all cores)."""
    index = new_index(embeddings.shape[1], embeddings.shape[0])
    if keys.size:
        index.add(keys, embeddings, threads=threads)
    return index


def diff(index: Index, lookup: KeyLookup) -> tuple[Keys, Keys]:
    """(keys to remove, keys to add) to turn ``index`` into the gallery version ``lookup`` describes."""
    present = np.asarray(index.keys, dtype=np.uint64)
    wanted = lookup.keys
    removed: Keys = np.setdiff1d(present, wanted, assume_unique=True)
    added: Keys = np.setdiff1d(wanted, present, assume_unique=True)
    return removed, added


def patch(index: Index, embeddings: Embedding, lookup: KeyLookup, removed: Keys, added: Keys) -> None:
    """Apply a :func:`diff` to a mutable ``index`` (rows of ``embeddings`` are found through ``lookup``)."""
    if removed.size:
        index.remove(removed)
    if added.size:
        index.add(added, np.ascontiguousarray(embeddings[lookup.rows(added)]), threads=INSERT_THREADS)


def write_file(path: Path, header: IndexHeader, index: Index) -> None:
    """Write an ``.ann`` file (header, then the index) to ``path``."""
    encoded = json.dumps(asdict(header), separators=(",", ":")).encode("utf-8")
    blob = temp_path(path.parent, "annblob")
    try:
        with disk_errors(f"writing the search index {path}"):
            index.save(str(blob))
            with path.open("wb") as target, blob.open("rb") as source:
                target.write(MAGIC + _LENGTH.pack(len(encoded)) + encoded)
                shutil.copyfileobj(source, target, 1 << 20)
    finally:
        remove_quietly(blob)


def read_header(path: Path) -> tuple[IndexHeader, int] | None:
    """The header of an ``.ann`` file and where its index starts; None if it is not one we can use."""
    try:
        with path.open("rb") as handle:
            start = handle.read(len(MAGIC) + _LENGTH.size)
            if len(start) < len(MAGIC) + _LENGTH.size or start[: len(MAGIC)] != MAGIC:
                return None
            (length,) = _LENGTH.unpack(start[len(MAGIC) :])
            if length > _MAX_HEADER:
                return None
            fields = json.loads(handle.read(length).decode("utf-8"))
        header = IndexHeader(**fields)
    except (OSError, ValueError, TypeError):
        return None
    if header.format != FORMAT_VERSION or header.engine != ENGINE or header.dtype != DTYPE:
        return None
    return header, len(MAGIC) + _LENGTH.size + length


def _map(path: Path, dim: int) -> tuple[IndexHeader, mmap.mmap, memoryview] | None:
    """Map an ``.ann`` file; None if it is not a usable index of ``dim`` dimensions."""
    parsed = read_header(path)
    if parsed is None or parsed[0].dim != dim:
        return None
    header, offset = parsed
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            mapped = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        view = memoryview(mapped)[offset:]
        meta = Index.metadata(view)
    except (OSError, ValueError, RuntimeError):
        return None
    if not meta or meta["dimensions"] != dim or meta["count_present"] != header.count:
        return None
    return header, mapped, view


def open_file(path: Path, dim: int) -> LoadedIndex | None:
    """View the index in an ``.ann`` file without loading it (mmap); None if unusable or not ``dim``."""
    mapping = _map(path, dim)
    if mapping is None:
        return None
    header, mapped, view = mapping
    index = new_index(dim, header.count)
    try:
        index.view(view)
    except (ValueError, RuntimeError):
        return None
    return LoadedIndex(header=header, index=index, path=path, keepalive=(mapped, view))


def load_mutable(loaded: LoadedIndex) -> Index:
    """A private, writable in-memory copy of a loaded index (viewed indexes are read-only)."""
    mapping = _map(loaded.path, loaded.header.dim)
    if mapping is None:
        raise ValueError(f"{loaded.path} is no longer a readable index")
    _, mapped, view = mapping
    try:
        index = new_index(loaded.header.dim, loaded.header.count)
        index.load(view)
    finally:
        view.release()
        mapped.close()
    return index
