"""ANN search for large galleries: recall against exact search, identical result semantics, the size
threshold, stale indexes (never used as they are) and deletions, on real USearch indexes and real files."""

from __future__ import annotations

import dataclasses
import gc
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from frs.config import REPO_ROOT, Settings
from frs.gallery.factory import open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.file.transports.local import LocalTransport
from frs.gallery.file.transports.s3 import S3Transport
from frs.gallery.search.ann import index as ann_index
from frs.gallery.search.ann import manager as ann
from frs.gallery.search.ann.keys import KeyLookup, keys_from_face_ids
from frs.gallery.search.ann.matcher import MAX_ANN_TOP_K, AnnMatcher
from frs.gallery.search.exact import Matcher
from frs.gallery.search.matrix import MatrixData
from frs.gallery.search.synthetic import clustered_gallery
from frs.gallery.types import NewFace
from frs.packs.info import PackInfo
from tests.gallery.synthetic import FaceMaker

RECALL_FACES = 100_000
RECALL_DIM = 64
TOP_K = 5
SMALL_THRESHOLD = 300

Large = tuple[MatrixData, np.ndarray, Matcher, AnnMatcher]


def random_keys(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return keys_from_face_ids([str(uuid.UUID(int=int(v), version=4)) for v in rng.integers(0, 2**63, n)])


@pytest.fixture(scope="module")
def large() -> Large:
    """100k clustered faces, their exact matcher and an ANN matcher over a freshly built index."""
    synthetic = clustered_gallery(RECALL_FACES, RECALL_DIM, n_queries=200, seed=11)
    keys = random_keys(RECALL_FACES, seed=12)
    index = ann_index.build(synthetic.data.embeddings, keys)
    matcher = AnnMatcher(synthetic.data, index, KeyLookup(keys), tag="v1")
    return synthetic.data, synthetic.queries, Matcher(synthetic.data), matcher


def test_recall_at_5_against_exact_on_100k_faces(large: Large) -> None:
    _, queries, exact, approximate = large
    expected = exact.search(queries, TOP_K)
    got = approximate.search(queries, TOP_K)
    recall = np.mean(
        [len({c.name for c in e} & {c.name for c in g}) / TOP_K for e, g in zip(expected, got, strict=True)]
    )
    assert recall >= 0.99, recall
    assert approximate.exact_fallbacks == 0  # the index itself answered, not the exact fallback


def test_every_face_can_be_found_by_its_own_vector() -> None:
    # Parallel insertion (usearch 2.26.6) left ~0.2% of such a graph unreachable; FRS inserts on one thread.
    x = np.random.default_rng(2).standard_normal((2000, 64)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    keys = random_keys(2000, seed=3)
    found: Any = ann_index.build(x, keys).search(x, 10)
    assert (found.keys == keys[:, None]).any(axis=1).all()


def test_ann_results_have_exact_semantics(large: Large) -> None:
    data, queries, _, approximate = large
    for query, result in zip(queries[:50], approximate.search(queries[:50], TOP_K), strict=True):
        assert len(result) == TOP_K
        similarities = [c.similarity for c in result]
        assert similarities == sorted(similarities, reverse=True)
        assert len({c.name for c in result}) == TOP_K
        for candidate in result:  # each similarity is the identity's exact max over all its faces
            i = data.names.index(candidate.name)
            end = data.starts[i + 1] if i + 1 < len(data.starts) else data.embeddings.shape[0]
            truth = float((data.embeddings[data.starts[i] : end] @ query).max())
            assert candidate.similarity == pytest.approx(truth, abs=1e-5)
    # One batch of many queries answers like one query at a time.
    assert approximate.search(queries[:3], TOP_K) == [
        approximate.search(q[None], TOP_K)[0] for q in queries[:3]
    ]


def test_small_index_gives_exactly_the_exact_answer() -> None:
    # 150 faces: the index returns every face, so only the aggregation and ranking are under test.
    synthetic = clustered_gallery(150, 32, n_queries=20, seed=5)
    keys = random_keys(150, seed=6)
    index = ann_index.build(synthetic.data.embeddings, keys)
    found: Any = index.search(synthetic.queries, 150)
    assert (found.counts == 150).all()
    approximate = AnnMatcher(synthetic.data, index, KeyLookup(keys), tag="t")
    exact = Matcher(synthetic.data)
    for top_k in (1, 5, 17, MAX_ANN_TOP_K + 1, 1000):
        for got, expected in zip(
            approximate.search(synthetic.queries, top_k), exact.search(synthetic.queries, top_k), strict=True
        ):
            assert [c.name for c in got] == [c.name for c in expected]
            assert [c.similarity for c in got] == pytest.approx([c.similarity for c in expected], abs=1e-6)


def test_a_mapped_index_outlives_its_file_and_loader(tmp_path: Path) -> None:
    synthetic = clustered_gallery(400, 16, n_queries=4, seed=8)
    keys = random_keys(400, seed=9)
    path = tmp_path / "x.ann"
    header = ann_index.IndexHeader(tag="t", dim=16, count=400, removed_since_build=0)
    ann_index.write_file(path, header, ann_index.build(synthetic.data.embeddings, keys))
    loaded = ann_index.open_file(path, 16)
    assert loaded is not None
    assert ann_index.open_file(path, 32) is None  # another dimension is not this gallery's index
    matcher = AnnMatcher(synthetic.data, loaded.index, KeyLookup(keys), tag="t", keepalive=loaded.keepalive)
    expected = Matcher(synthetic.data).search(synthetic.queries, 3)
    del loaded
    gc.collect()
    path.unlink()  # the manager deletes replaced files while older matchers may still search them
    got = matcher.search(synthetic.queries, 3)
    assert [[c.name for c in r] for r in got] == [[c.name for c in r] for r in expected]


def test_face_keys_are_stable_and_map_back_to_rows() -> None:
    face_ids = [str(uuid.uuid4()) for _ in range(500)]
    fast = keys_from_face_ids(face_ids)
    halves = [(uuid.UUID(f).int >> 64, uuid.UUID(f).int & (2**64 - 1)) for f in face_ids]
    assert fast.tolist() == [(high ^ low) & (2**63 - 1) for high, low in halves]
    assert np.array_equal(keys_from_face_ids([f.upper() for f in face_ids]), fast)  # the slow path agrees
    assert int(fast.max()) < 2**63
    lookup = KeyLookup(fast)
    assert lookup.unique
    assert lookup.rows(fast[[7, 3, 499]]).tolist() == [7, 3, 499]
    unknown = np.array([fast[5] ^ np.uint64(1)], dtype=np.uint64)
    assert lookup.rows(np.concatenate([unknown, fast[[9]]])).tolist() == [9]  # keys of other versions vanish
    assert not KeyLookup(np.concatenate([fast, fast[:1]])).unique


# ----- through SyncedGallery: persistence, threshold, staleness, deletion --------------------------------


def enrol(gallery: SyncedGallery, faces: FaceMaker, pack: PackInfo, names: list[str]) -> None:
    gallery.add_faces([(name, faces.face(name), None) for name in names], pack=pack)


def write_id_of(directory: Path, name: str) -> str:
    with sqlite3.connect(directory / f"{name}.sqlite") as conn:
        return str(conn.execute("SELECT value FROM meta WHERE key = 'write_id'").fetchone()[0])


def stored_tag(directory: Path, name: str) -> str | None:
    parsed = ann_index.read_header(directory / f"{name}{ann.ANN_SUFFIX}")
    return parsed[0].tag if parsed else None


def open_reader(directory: Path, cache: Path, threshold: int = SMALL_THRESHOLD) -> SyncedGallery:
    return SyncedGallery("people", LocalTransport(directory), cache, sync_ttl=0.0, ann_min_faces=threshold)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "galleries"


@pytest.fixture
def writer(directory: Path, tmp_path: Path) -> SyncedGallery:
    return open_reader(directory, tmp_path / "writer-cache")


def query_for(faces: FaceMaker, name: str) -> np.ndarray:
    return faces.embedding(name)[None, :]


def test_threshold_switches_between_exact_and_ann(
    writer: SyncedGallery, directory: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    enrol(writer, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD - 1)])
    assert writer.search(query_for(faces, "p3"), pack=pack, top_k=3)[0][0].name == "p3"
    assert writer.search_index_tag() is None  # below the threshold: exact search, no index written
    assert not (directory / "people.ann").exists()

    enrol(writer, faces, pack, ["p-last"])
    assert stored_tag(directory, "people") == write_id_of(directory, "people")
    assert writer.search(query_for(faces, "p-last"), pack=pack, top_k=3)[0][0].name == "p-last"
    assert writer.search_index_tag() == write_id_of(directory, "people")

    writer.delete_identity("p-last")  # back below the threshold: exact again
    assert writer.search(query_for(faces, "p7"), pack=pack, top_k=3)[0][0].name == "p7"
    assert writer.search_index_tag() is None


def test_fresh_reader_maps_the_writers_index(
    writer: SyncedGallery, directory: Path, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    names = [f"p{i}" for i in range(SMALL_THRESHOLD + 50)]
    enrol(writer, faces, pack, names)
    reader = open_reader(directory, tmp_path / "reader-cache")
    queries = np.stack([faces.embedding(n) for n in names[:40]])
    got = reader.search(queries, pack=pack, top_k=5)
    assert reader.search_index_tag() == write_id_of(directory, "people")
    exact_reader = open_reader(directory, tmp_path / "exact-cache", threshold=10**9)
    exact = exact_reader.search(queries, pack=pack, top_k=5)
    assert exact_reader.search_index_tag() is None
    assert [r[0].name for r in got] == names[:40]  # every query is an enrolled face: it must come first
    overlap = [len({c.name for c in g} & {c.name for c in e}) / 5 for g, e in zip(got, exact, strict=True)]
    assert np.mean(overlap) >= 0.95
    for query, result in zip(queries[:10], got[:10], strict=True):  # similarities are the exact ones
        for candidate in result:
            truth = exact_reader.identity_similarity(candidate.name, query, pack=pack)
            assert candidate.similarity == pytest.approx(truth, abs=1e-6)


def test_stale_index_is_patched_never_used_as_is(
    writer: SyncedGallery, directory: Path, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    enrol(writer, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD + 20)])
    old_index = tmp_path / "old.ann"
    shutil.copyfile(directory / "people.ann", old_index)
    old_tag = stored_tag(directory, "people")
    enrol(writer, faces, pack, ["newcomer"])
    writer.delete_identity("p5")
    # Put the index of the first version back, as if the writer had crashed before uploading its own.
    shutil.copyfile(old_index, directory / "people.ann")
    current = write_id_of(directory, "people")
    assert old_tag != current

    reader = open_reader(directory, tmp_path / "reader-cache")
    assert reader.search(query_for(faces, "newcomer"), pack=pack, top_k=3)[0][0].name == "newcomer"
    assert reader.search_index_tag() == current  # patched to this version, never the stale one as it is
    assert all(c.name != "p5" for c in reader.search(query_for(faces, "p5"), pack=pack, top_k=50)[0])
    assert stored_tag(directory, "people") == old_tag  # readers never upload


def test_stale_index_too_far_behind_means_exact_search(
    writer: SyncedGallery,
    directory: Path,
    tmp_path: Path,
    faces: FaceMaker,
    pack: PackInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enrol(writer, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD + 20)])
    old_index = tmp_path / "old.ann"
    shutil.copyfile(directory / "people.ann", old_index)
    enrol(writer, faces, pack, ["newcomer", "other"])
    shutil.copyfile(old_index, directory / "people.ann")
    monkeypatch.setattr(ann, "READER_MAX_ADDS", 1)  # two faces to insert is now too many for a reader

    reader = open_reader(directory, tmp_path / "reader-cache")
    assert reader.search(query_for(faces, "newcomer"), pack=pack, top_k=3)[0][0].name == "newcomer"
    assert reader.search_index_tag() is None

    enrol(writer, faces, pack, ["third"])  # the writer patches the stale index and uploads a current one
    assert stored_tag(directory, "people") == write_id_of(directory, "people")
    assert reader.search(query_for(faces, "third"), pack=pack, top_k=3)[0][0].name == "third"
    assert reader.search_index_tag() == write_id_of(directory, "people")


def test_deleted_faces_never_come_back(
    writer: SyncedGallery, directory: Path, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    names = [f"p{i}" for i in range(SMALL_THRESHOLD + 20)]
    enrol(writer, faces, pack, names)
    twin = NewFace(faces.embedding("p1"), 0.9, (1.0, 2.0, 3.0, 4.0), "b" * 64)
    result = writer.add_face("p2", twin, pack=pack)  # p2 also gets p1's face
    reader = open_reader(directory, tmp_path / "reader-cache")
    assert {c.name for c in reader.search(query_for(faces, "p1"), pack=pack, top_k=2)[0]} == {"p1", "p2"}

    writer.delete_identity("p1")
    writer.delete_face(result.face_id)
    header = ann_index.read_header(directory / "people.ann")
    assert header is not None
    assert header[0].removed_since_build == 2  # the writer patched the graph instead of rebuilding it
    for gallery in (writer, reader):
        top = gallery.search(query_for(faces, "p1"), pack=pack, top_k=MAX_ANN_TOP_K)[0]
        assert gallery.search_index_tag() == write_id_of(directory, "people")
        assert "p1" not in {c.name for c in top}
        p2 = [c for c in top if c.name == "p2"]
        assert not p2 or p2[0].similarity < 0.99  # p2 is left with its own face only


def test_damaged_index_falls_back_to_exact(
    writer: SyncedGallery, directory: Path, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    enrol(writer, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD)])
    (directory / "people.ann").write_bytes(b"FRSANN\x00\x01garbage")
    reader = open_reader(directory, tmp_path / "reader-cache")
    assert reader.search(query_for(faces, "p9"), pack=pack, top_k=3)[0][0].name == "p9"
    assert reader.search_index_tag() is None


def test_threshold_comes_from_settings(local_settings: Settings, faces: FaceMaker, pack: PackInfo) -> None:
    """FRS_ANN_MIN_FACES reaches the galleries the factory opens (parsing it: tests/test_config.py)."""
    assert ann.DEFAULT_MIN_FACES == Settings().ann_min_faces == 200_000
    small = open_gallery("indexed", dataclasses.replace(local_settings, ann_min_faces=SMALL_THRESHOLD))
    assert isinstance(small, SyncedGallery)
    enrol(small, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD)])  # far below the default threshold
    assert small.search(query_for(faces, "p4"), pack=pack, top_k=3)[0][0].name == "p4"
    assert small.search_index_tag() == write_id_of(Path(local_settings.gallery_uri), "indexed")


def test_index_travels_through_s3(
    s3_bucket: str, s3_client: Any, tmp_path: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    def open_s3(cache: str) -> SyncedGallery:
        transport = S3Transport(s3_bucket, "galleries", s3_client)
        return SyncedGallery(
            "people", transport, tmp_path / cache, sync_ttl=0.0, ann_min_faces=SMALL_THRESHOLD
        )

    writer = open_s3("writer")
    enrol(writer, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD)])  # first upload: If-None-Match: *
    enrol(writer, faces, pack, ["newcomer"])  # then If-Match on the index's own ETag
    reader = open_s3("reader")
    assert reader.search(query_for(faces, "newcomer"), pack=pack, top_k=3)[0][0].name == "newcomer"
    assert reader.search_index_tag() is not None
    assert reader.search_index_tag() == writer.search_index_tag()
    keys = S3Transport(s3_bucket, "galleries", s3_client).list_keys()
    assert keys == ["people.sqlite"]  # the index is not mistaken for a gallery


def test_index_failures_never_fail_a_write(
    writer: SyncedGallery, directory: Path, faces: FaceMaker, pack: PackInfo
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "people.ann").mkdir()  # the index can be neither read nor written
    enrol(writer, faces, pack, [f"p{i}" for i in range(SMALL_THRESHOLD)])
    assert writer.search(query_for(faces, "p4"), pack=pack, top_k=3)[0][0].name == "p4"
    assert writer.search_index_tag() is None


def test_index_module_then_onnxruntime_loads_in_one_process() -> None:
    # usearch's RTLD_GLOBAL NumKong load made a later `import onnxruntime` segfault; ann_index guards it.
    code = "import frs.gallery.search.ann.index, onnxruntime; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr[-2000:]
