"""``frs calibrate DATASET``: a pack's calibration record, measured with the pack's own pipeline.

The dataset is a folder per identity (``DATASET/<identity>/<photo>``). Each photo gives one face: the only
one, or the one nearest the centre when there are several (the LFW convention: the labelled person is the
centred one). Photos without a face, or that do not decode, are skipped and counted. The embeddings go to
:func:`frs.decision.calibration.calibrate_pack` (every pair of different people, each identity weighing one),
and the record is stored under ``"calibration"`` in the pack manifest (or written to a file of its own). The
record holds statistics only: no photo, no embedding, no file name.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frs.decision.calibration import DEFAULT_PROBE_CAP, Calibration, calibrate_pack
from frs.errors import FRSError
from frs.packs.manifest_edit import set_member
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer

MANIFEST_KEY = "calibration"


@dataclass
class EmbeddedDataset:
    embeddings: list[npt.NDArray[np.float32]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # the photo of each embedding (never in a record)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> photos

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def central_face(faces: Sequence[AnalyzedFace], width: int, height: int) -> AnalyzedFace | None:
    """The face whose box centre is nearest the image centre (None without faces)."""

    def distance(face: AnalyzedFace) -> float:
        x = (face.bbox[0] + face.bbox[2]) / 2 - width / 2
        y = (face.bbox[1] + face.bbox[3]) / 2 - height / 2
        return x * x + y * y

    return min(faces, key=distance) if faces else None


def embed_dataset(
    analyzer: FaceAnalyzer, identities: Mapping[str, Sequence[Path]], *, progress: bool = False
) -> EmbeddedDataset:
    """One embedding per photo (its central face), labelled by identity."""
    from tqdm import tqdm

    jobs = [(name, path) for name, paths in identities.items() for path in paths]
    result = EmbeddedDataset()
    for name, path in tqdm(jobs, unit="photo", file=sys.stderr, disable=not progress):
        try:
            analysis = analyzer.analyze(path.read_bytes())
        except FRSError as exc:
            result.skip(exc.code)
            continue
        except OSError:
            result.skip("unreadable")
            continue
        face = central_face(analysis.faces, analysis.width, analysis.height)
        if face is None or face.embedding is None:
            result.skip("no_face")
            continue
        result.embeddings.append(face.embedding)
        result.labels.append(name)
        result.paths.append(path)
    return result


def calibrate_dataset(
    analyzer: FaceAnalyzer,
    identities: Mapping[str, Sequence[Path]],
    *,
    dataset: str,
    group_size: int | None = None,
    probe_cap: int | None = DEFAULT_PROBE_CAP,
    progress: bool = False,
) -> tuple[Calibration, EmbeddedDataset]:
    embedded = embed_dataset(analyzer, identities, progress=progress)
    if not embedded.embeddings:
        raise FRSError("bad_request", f"no face found in any photo of {dataset}")
    record = calibrate_pack(
        np.stack(embedded.embeddings),
        embedded.labels,
        pack=analyzer.manifest.name,
        dataset=dataset,
        group_size=group_size,
        probe_cap=probe_cap,
    )
    return record, embedded


def record_text(record: Mapping[str, Any], indent: int = 0) -> str:
    """The record as indented JSON, objects member by member and one ``[rate, score]`` quantile per line, so
    a diff of two calibrations shows what moved."""
    pad = " " * (indent + 2)
    lines = []
    for key, value in record.items():
        if key == "quantiles" and isinstance(value, list):
            pairs = ",\n".join(f"{pad}  {json.dumps(pair)}" for pair in value)
            lines.append(f"{pad}{json.dumps(key)}: [\n{pairs}\n{pad}]")
        elif isinstance(value, dict) and isinstance(value.get("quantiles"), list):
            lines.append(f"{pad}{json.dumps(key)}: {record_text(value, indent + 2)}")
        else:
            lines.append(f"{pad}{json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"


def store_record(record: Calibration, *, manifest: Path, out: Path | None) -> Path:
    """Write the record into ``manifest`` (atomically, the rest of the file untouched) or to ``out``."""
    body = record.to_dict()
    text = record_text(body)
    if out is not None:
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise FRSError("bad_request", f"cannot write {out}: {exc.strerror}") from exc
        return out
    set_member(manifest, MANIFEST_KEY, body, text)
    return manifest
