"""Retention on every backend (directory, S3, PostgreSQL): expiry set by add, a gallery's default retention,
what expired_names reports, the purge (one write: every expired identity with its face ids, nothing else),
and expiry carried through the bulk-transfer stream.

What identify and search make of an expired identity is in tests/api/test_retention.py (the service drops
it for file galleries) and tests/gallery/pgvector/test_retention.py (PostgreSQL leaves it out in SQL).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from frs.config import Settings
from frs.gallery.factory import open_gallery
from frs.gallery.file.sync import SyncedGallery
from frs.gallery.pgvector.store import PgVectorGallery
from frs.packs.info import PackInfo
from tests.gallery.conftest import BACKENDS, backend_settings
from tests.gallery.synthetic import FaceMaker

RetentionGallery = SyncedGallery | PgVectorGallery
PAST = "2000-01-01T00:00:00.000Z"
FUTURE = "2099-01-01T00:00:00.000Z"
NOW = "2030-01-01T00:00:00.000Z"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> RetentionGallery:
    opened = open_gallery(f"retain_{uuid.uuid4().hex[:12]}", backend_settings(request, request.param))
    assert isinstance(opened, SyncedGallery | PgVectorGallery)
    assert opened.supports_retention
    return opened


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_add_sets_and_moves_the_expiry_and_keeps_it_when_not_given(
    store: RetentionGallery, faces: FaceMaker, pack: PackInfo
) -> None:
    store.add_face("Ada", faces.face("a1"), pack=pack, expires_at=FUTURE)
    store.add_face("Bob", faces.face("b1"), pack=pack)
    assert (store.get("Ada").expires_at, store.get("Bob").expires_at) == (FUTURE, None)
    store.add_face("Ada", faces.face("a2"), pack=pack, metadata={"k": 1})  # no expires_at: it stays
    assert store.get("Ada").expires_at == FUTURE and store.get("Ada").metadata == {"k": 1}
    store.add_face("Ada", faces.face("a3"), pack=pack, expires_at=PAST)  # moved (here: into the past)
    ada = store.get("Ada")
    assert (ada.expires_at, ada.face_count, ada.metadata) == (PAST, 3, {"k": 1})
    listed = {i.name: i.expires_at for i in store.list().identities}
    assert listed == {"Ada": PAST, "Bob": None}
    assert store.expired_names(NOW) == ["Ada"]
    assert store.expired_names("1999-12-31T23:59:59.999Z") == []  # not yet expired at that time
    assert store.expired_names(PAST) == ["Ada"]  # expired from the very moment of expires_at


def test_a_default_retention_dates_new_identities_only(
    store: RetentionGallery, faces: FaceMaker, pack: PackInfo
) -> None:
    store.add_face("Old", faces.face("o1"), pack=pack)
    assert store.retention_days() is None
    store.set_retention(30.0)
    assert store.retention_days() == 30.0
    before = datetime.now(UTC)
    store.add_face("New", faces.face("n1"), pack=pack)
    after = datetime.now(UTC)
    expires = store.get("New").expires_at
    assert expires is not None
    assert before + timedelta(days=30) - timedelta(seconds=1) <= _parse(expires)
    assert _parse(expires) <= after + timedelta(days=30) + timedelta(seconds=1)
    assert store.get("Old").expires_at is None  # an existing identity is not re-dated
    store.add_face("Old", faces.face("o2"), pack=pack)
    assert store.get("Old").expires_at is None  # ... not even when it gets another face
    store.add_face("Given", faces.face("g1"), pack=pack, expires_at=FUTURE)
    assert store.get("Given").expires_at == FUTURE  # an explicit expiry wins over the default
    store.set_retention(None)
    assert store.retention_days() is None
    store.add_face("Later", faces.face("l1"), pack=pack)
    assert store.get("Later").expires_at is None


def test_the_purge_deletes_every_expired_identity_with_its_faces_and_nothing_else(
    store: RetentionGallery, faces: FaceMaker, pack: PackInfo
) -> None:
    a1 = store.add_face("Ada", faces.face("a1"), pack=pack, expires_at=PAST)
    a2 = store.add_face("Ada", faces.face("a2"), pack=pack)
    c1 = store.add_face("Cy", faces.face("c1"), pack=pack, expires_at="2029-12-31T23:59:59.999Z")
    store.add_face("Bob", faces.face("b1"), pack=pack, expires_at=FUTURE)
    store.add_face("Dee", faces.face("d1"), pack=pack)
    assert store.face_count() == 5

    purged = store.purge_expired(NOW)
    assert purged == [("Ada", [a1.face_id, a2.face_id]), ("Cy", [c1.face_id])]  # name order, enrolment order
    assert sorted(i.name for i in store.list().identities) == ["Bob", "Dee"]
    assert store.face_count() == 2
    assert store.existing_face_ids([a1.face_id, a2.face_id, c1.face_id]) == set()
    assert store.expired_names(NOW) == []
    assert store.purge_expired(NOW) == []  # nothing left to purge: a second run changes nothing
    assert store.get("Bob").expires_at == FUTURE


def test_the_bulk_stream_carries_the_expiry(
    store: RetentionGallery, local_settings: Settings, faces: FaceMaker, pack: PackInfo
) -> None:
    store.add_face("Ada", faces.face("a1"), pack=pack, expires_at=FUTURE)
    store.add_face("Bob", faces.face("b1"), pack=pack)
    # Into a directory gallery (PostgreSQL face ids are unique per database, see test_bulk.py).
    target = open_gallery(f"copy_{uuid.uuid4().hex[:12]}", local_settings)
    target.import_records(lambda: itertools.chain(store.iter_identities(), store.iter_faces()), pack=pack)
    assert {i.name: i.expires_at for i in target.iter_identities()} == {"Ada": FUTURE, "Bob": None}
    assert {i.name: i.expires_at for i in store.iter_identities()} == {"Ada": FUTURE, "Bob": None}
