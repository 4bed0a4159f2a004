"""Fixtures for the transfer tests: fresh, separate gallery locations on each backend (a directory, a bucket
of the moto server, a database of the pgserver), and a source gallery filled with synthetic faces."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable

import numpy as np
import pytest

from frs.config import Settings
from frs.gallery.factory import open_gallery
from frs.gallery.search.synthetic import clustered_gallery
from frs.gallery.types import Gallery, NewFace
from frs.packs.info import PackInfo
from harness.postgres import PgServer
from harness.s3 import S3Endpoint
from tests.gallery.conftest import BACKENDS

GALLERY = "people"
N_FACES = 230

#: A fresh location of a backend kind: a new directory, bucket or database each call.
Locate = Callable[[str], Settings]


@pytest.fixture
def locate(
    request: pytest.FixtureRequest, local_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Locate:
    def fresh(kind: str) -> Settings:
        tag = uuid.uuid4().hex[:8]
        base = dataclasses.replace(local_settings, cache_dir=tmp_path_factory.mktemp(f"cache-{tag}"))
        if kind == "sqlite-local":
            return dataclasses.replace(base, gallery_uri=str(tmp_path_factory.mktemp(f"galleries-{tag}")))
        if kind == "sqlite-s3":
            s3: S3Endpoint = request.getfixturevalue("s3_env")
            return dataclasses.replace(
                base,
                gallery_uri=f"s3://{s3.create_bucket()}/galleries",
                aws_endpoint_url=s3.url,
                aws_region="us-east-1",
                s3_max_attempts=2,
            )
        assert kind == "pgvector", kind
        server: PgServer = request.getfixturevalue("pg_server")
        return dataclasses.replace(base, gallery_uri=server.create_database())

    return fresh


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fill(gallery: Gallery, pack: PackInfo, n_faces: int = N_FACES, seed: int = 0) -> np.ndarray:
    """Enrol ``n_faces`` clustered synthetic faces (identities of 1-7 faces, some with metadata and a source);
    returns query embeddings (half of enrolled people, half of strangers)."""
    synthetic = clustered_gallery(n_faces, pack.dim, n_queries=40, seed=seed)
    data = synthetic.data
    owners = np.repeat(np.arange(len(data.names)), np.diff([*data.starts.tolist(), n_faces]))
    items: list[tuple[str, NewFace, dict[str, object] | None]] = []
    for row, owner in enumerate(owners.tolist()):
        name = f"person {data.names[owner]} é"
        metadata = {"n": owner, "team": ["a", {"z": 1, "b": 2.5}]} if owner % 3 == 0 else None
        face = NewFace(
            embedding=data.embeddings[row],
            det_score=0.5 + (row % 50) / 100,
            bbox=(float(row), 2.25, 30.5 + row, 40.0),
            image_sha256=f"{row:064x}",
            source=f"s3://photos/{row}.jpg" if row % 2 else None,
            quality=None if row % 5 == 0 else 0.9,
        )
        items.append((name, face, metadata))
    for start in range(0, len(items), 100):
        gallery.add_faces(items[start : start + 100], pack=pack)
    return synthetic.queries


def open_at(settings: Settings, name: str = GALLERY) -> Gallery:
    return open_gallery(name, settings)


def answers(gallery: Gallery, queries: np.ndarray, pack: PackInfo) -> list[list[tuple[str, float]]]:
    """Top-5 identities per query, as the API rounds similarities."""
    return [
        [(c.name, round(c.similarity, 4)) for c in row] for row in gallery.search(queries, pack=pack, top_k=5)
    ]
