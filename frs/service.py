"""The operations FRS offers, over the pipeline and a gallery: what the CLI and the Lambda handler call.

Each method takes plain values (image bytes, names, options), validates them, and returns a JSON-ready dict or
raises :class:`FRSError`. Nothing here knows about HTTP or Lambda events. The answers use one vocabulary
(README, "Names"): requests name an identity ``name``, answers call it ``identity``; ``det_score`` is the
detector's score; every face carries its ``quality``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np

from frs.access.policy import AccessPolicy, load_policy
from frs.config import Settings
from frs.decision.open_set import BELOW_THRESHOLD, LOW_QUALITY, MATCH, NO_CANDIDATES, decide
from frs.decision.operating_point import OperatingPoint, check_rate
from frs.decision.policy import (
    check_threshold,
    identify_point,
    identify_point_dict,
    verify_point,
    verify_point_dict,
)
from frs.errors import FRSError
from frs.gallery.types import (
    KEEP,
    AddResult,
    Candidate,
    Embedding,
    FaceRecord,
    Gallery,
    Identity,
    MetadataMode,
    NewFace,
)
from frs.gallery.validation import (
    MAX_TOP_K,
    validate_face_id,
    validate_identity_name,
    validate_merge_sources,
    validate_metadata,
    validate_metadata_mode,
    validate_source,
    validate_top_k,
)
from frs.packs.info import PackInfo
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer, load_analyzer
from frs.pipeline.quality import FilterLevel, parse_filter_level

#: ``reason`` of an identify face, by the decision's outcome (null exactly when the face is named).
REASONS: dict[str, str | None] = {
    MATCH: None,
    BELOW_THRESHOLD: "below_threshold",
    LOW_QUALITY: "low_quality",
    NO_CANDIDATES: "empty_gallery",
}


def _box(face: AnalyzedFace) -> list[float]:
    return [round(v, 1) for v in face.bbox]


def face_record_dict(face: FaceRecord) -> dict[str, Any]:
    return {
        "face_id": face.face_id,
        "bbox": [round(v, 1) for v in face.bbox],
        "det_score": round(face.det_score, 4),
        "quality_score": None if face.quality is None else round(face.quality, 4),
        "image_sha256": face.image_sha256,
        "source": face.source,
        "created_at": face.created_at,
    }


def identity_dict(identity: Identity, *, with_faces: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity": identity.name,
        "metadata": identity.metadata,
        "face_count": identity.face_count,
        "created_at": identity.created_at,
        "updated_at": identity.updated_at,
        "expires_at": identity.expires_at,
    }
    if with_faces:
        body["faces"] = [face_record_dict(f) for f in identity.faces]
    return body


def add_result_dict(result: AddResult, face: AnalyzedFace) -> dict[str, Any]:
    return {
        "face_id": result.face_id,
        "identity": result.identity,
        "bbox": _box(face),
        "det_score": round(face.score, 4),
        "quality": face.quality.to_dict(),
        "face_count": result.face_count,
        "created": result.created,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_expiry(value: object) -> str | None:
    """An ``expires_at`` (ISO 8601; no zone means UTC) as the galleries' UTC text; bad_request otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FRSError("bad_request", "expires_at must be an ISO 8601 time, e.g. 2027-01-31T00:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FRSError("bad_request", f"expires_at {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_retention_days(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 36_500:
        raise FRSError("bad_request", "retention_days must be a number of days > 0 and <= 36500")
    return float(value)


def _retention_store(store: Gallery) -> Any:
    """``store`` if its backend keeps retention (file and PostgreSQL galleries), else bad_request."""
    if not getattr(store, "supports_retention", False):
        raise FRSError("bad_request", "expires_at and retention_days need a gallery backend that keeps them")
    return store


def _expired(store: Gallery) -> set[str]:
    names = getattr(store, "expired_names", None)
    return set(names(now_iso())) if callable(names) else set()


def _is_expired(identity: Identity) -> bool:
    return identity.expires_at is not None and identity.expires_at <= now_iso()


def live_search(store: Gallery, queries: Embedding, pack: PackInfo, top_k: int) -> list[list[Candidate]]:
    """``store.search`` without expired identities, from the moment they expire (before the purge).

    PostgreSQL leaves them out in SQL (``filters_expired``). A file gallery's matrix still holds them, so
    more candidates are fetched and the expired dropped here; capped at MAX_TOP_K, so with very many expired
    identities not yet purged fewer than ``top_k`` may remain, but never an expired one.
    """
    if getattr(store, "filters_expired", False):
        return store.search(queries, pack=pack, top_k=top_k)
    expired = _expired(store)
    found = store.search(queries, pack=pack, top_k=min(MAX_TOP_K, top_k + len(expired)))
    return [[c for c in candidates if c.name not in expired][:top_k] for candidates in found]


def _filter_level(value: object, default: str) -> FilterLevel:
    if value is None:
        value = default
    if not isinstance(value, str):
        raise FRSError("bad_request", "quality_filter must be one of none, low, medium, high")
    return parse_filter_level(value)


class FaceService:
    """Stateless apart from the cached analyzer and galleries, so one instance serves every invocation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def analyzer(self) -> FaceAnalyzer:
        return load_analyzer(self.settings)

    def gallery(self, name: str) -> Gallery:
        from frs.gallery.factory import open_gallery

        return open_gallery(name, self.settings)

    @cached_property
    def access_policy(self) -> AccessPolicy | None:
        """``FRS_ACCESS_POLICY``, parsed (and read from S3) once; None without one. The Lambda application
        asks for it at INIT, so a malformed policy fails there (``misconfigured``)."""
        return load_policy(self.settings)

    def access(self) -> dict[str, Any]:
        """What /health says about access control."""
        policy = self.access_policy
        if policy is None:
            return {
                "policy": None,
                "note": "no FRS_ACCESS_POLICY: every authenticated caller may use every gallery",
            }
        return policy.summary()

    def health(self) -> dict[str, Any]:
        """Liveness, with the loaded pack (loading it if this is the first call) and the access policy."""
        pack = self.analyzer.pack
        return {"status": "ok", "pack": pack.name, "dim": pack.dim, "access": self.access()}

    # -- single-image operations -------------------------------------------------------------------------

    def detect(self, image: bytes) -> dict[str, Any]:
        analysis = self.analyzer.analyze(image, embed=False)
        return {"image": analysis.image_dict(), "faces": [f.to_dict() for f in analysis.faces]}

    def embed(self, image: bytes) -> dict[str, Any]:
        analysis = self.analyzer.analyze(image)
        faces = []
        for face in analysis.faces:
            assert face.embedding is not None
            faces.append({**face.to_dict(), "embedding": [round(float(v), 6) for v in face.embedding]})
        return {"image": analysis.image_dict(), "pack": self.analyzer.pack.name, "faces": faces}

    def _largest_face(self, image: bytes, label: str) -> AnalyzedFace:
        faces = self.analyzer.analyze(image).faces
        if not faces:
            raise FRSError("no_face", f"no face found in {label}")
        return max(faces, key=lambda f: f.area)

    def _verify_point(self, threshold: object, target_far: object) -> OperatingPoint:
        analyzer = self.analyzer
        return verify_point(
            threshold=check_threshold(threshold),
            configured=self.settings.match_threshold,
            target_far=check_rate(
                self.settings.target_far if target_far is None else target_far, "target_far"
            ),
            calibration=analyzer.calibration,
            pack_threshold=analyzer.manifest.recognizer.match_threshold,
        )

    @staticmethod
    def _verdict(similarity: float, point: OperatingPoint) -> dict[str, Any]:
        return {
            "similarity": round(similarity, 4),
            "match": similarity >= point.threshold,
            "threshold": round(point.threshold, 4),
            "operating_point": verify_point_dict(point),
        }

    def verify(
        self,
        gallery: str,
        image: bytes,
        *,
        image_b: bytes | None = None,
        name: str | None = None,
        threshold: float | None = None,
        target_far: float | None = None,
    ) -> dict[str, Any]:
        """``image`` against a second image (``image_b``) or against an enrolled identity (``name``)."""
        if image_b is not None:
            return self.verify_images(image, image_b, threshold=threshold, target_far=target_far)
        if name is not None:
            return self.verify_identity(gallery, name, image, threshold=threshold, target_far=target_far)
        raise FRSError("bad_request", "verify needs 'image' with either 'image_b' or 'name'")

    def verify_images(
        self,
        image_a: bytes,
        image_b: bytes,
        *,
        threshold: float | None = None,
        target_far: float | None = None,
    ) -> dict[str, Any]:
        point = self._verify_point(threshold, target_far)
        face_a = self._largest_face(image_a, "image")
        face_b = self._largest_face(image_b, "image_b")
        assert face_a.embedding is not None and face_b.embedding is not None
        return self._verdict(float(np.dot(face_a.embedding, face_b.embedding)), point)

    def verify_identity(
        self,
        gallery: str,
        name: str,
        image: bytes,
        *,
        threshold: float | None = None,
        target_far: float | None = None,
    ) -> dict[str, Any]:
        point = self._verify_point(threshold, target_far)
        store = self.gallery(gallery)
        if _is_expired(store.get(name)):  # not_found before spending time on the image
            raise FRSError("not_found", f"identity {name!r} not found")
        face = self._largest_face(image, "the image")
        assert face.embedding is not None
        similarity = store.identity_similarity(name, face.embedding, pack=self.analyzer.pack)
        return {"identity": name, **self._verdict(similarity, point)}

    # -- gallery operations ----------------------------------------------------------------------------

    def _single_face(self, image: bytes, largest: bool, level: FilterLevel) -> AnalyzedFace:
        """The face to enrol: the only one (or the largest), refused below the quality filter ``level``."""
        faces = self.analyzer.analyze(image).faces
        if not faces:
            raise FRSError("no_face", "no face found in the image")
        if len(faces) > 1 and not largest:
            raise FRSError(
                "multiple_faces",
                f"{len(faces)} faces found; send a photo with one face or set largest=true",
                count=len(faces),
            )
        face = max(faces, key=lambda f: f.area)
        reasons = self.analyzer.quality_refusals(face, level)
        if reasons:
            raise FRSError(
                "low_quality",
                f"the face is below the '{level}' quality filter: {', '.join(reasons)}",
                reasons=list(reasons),
                quality=face.quality.to_dict(),
                quality_filter=level,
            )
        return face

    @staticmethod
    def _new_face(face: AnalyzedFace, image: bytes, source: str | None = None) -> NewFace:
        assert face.embedding is not None
        return NewFace(
            face.embedding,
            face.score,
            face.bbox,
            hashlib.sha256(image).hexdigest(),
            source=source,
            quality=float(face.quality.overall),
        )

    def enrolment_face(
        self, image: bytes, *, largest: bool = False, quality_filter: str | None = None
    ) -> NewFace:
        """The face ``add`` would enrol from ``image`` (embedding, box, image hash), or the ``FRSError`` it
        would refuse it with (invalid_image, image_too_large, no_face, multiple_faces, low_quality)."""
        level = _filter_level(quality_filter, self.settings.add_quality_filter)
        return self._new_face(self._single_face(image, largest, level), image)

    def add(
        self,
        gallery: str,
        name: str,
        image: bytes,
        *,
        metadata: dict[str, Any] | None = None,
        largest: bool = False,
        quality_filter: str | None = None,
        source: str | None = None,
        expires_at: str | None = None,
    ) -> dict[str, Any]:
        """Enrol the face of ``image`` for ``name``; every refusal happens before the gallery is written.
        ``source`` (s3://bucket/key or a URL) records where the photo can be fetched again. ``expires_at``
        sets (or moves) when the identity expires; a new identity without one gets the gallery's default
        retention, if it has one."""
        level = _filter_level(quality_filter, self.settings.add_quality_filter)
        store = self.gallery(gallery)  # validates the gallery name before any model work
        validate_identity_name(name)
        source = validate_source(source)
        expiry = parse_expiry(expires_at)
        face = self._single_face(image, largest, level)
        new_face = self._new_face(face, image, source)
        if expiry is None:
            result = store.add_face(name, new_face, pack=self.analyzer.pack, metadata=metadata)
        else:
            result = _retention_store(store).add_face(
                name, new_face, pack=self.analyzer.pack, metadata=metadata, expires_at=expiry
            )
        return {**add_result_dict(result, face), "expires_at": store.get(name).expires_at}

    def add_many(
        self,
        gallery: str,
        items: Sequence[tuple[str, bytes, dict[str, Any] | None]],
        *,
        largest: bool = False,
        quality_filter: str | None = None,
        sources: Sequence[str | None] | None = None,
        expires_at: str | None = None,
    ) -> list[dict[str, Any]]:
        """Enrol many (name, image, metadata) in one gallery write; bad images (no face, several faces, below
        the quality filter) are reported per image, not fatal. ``expires_at`` sets (or moves) the expiry of
        every identity enrolled, as add's does.

        Each result is either an add result or ``{"identity", "error": {"code", "message", "details"?}}``.
        """
        level = _filter_level(quality_filter, self.settings.add_quality_filter)
        store = self.gallery(gallery)
        expiry = parse_expiry(expires_at)
        if expiry is not None:
            _retention_store(store)
        prepared: list[tuple[int, str, NewFace, dict[str, Any] | None, AnalyzedFace]] = []
        results: list[dict[str, Any]] = [{} for _ in items]
        for index, (name, image, metadata) in enumerate(items):
            try:
                validate_identity_name(name)
                source = validate_source(sources[index] if sources is not None else None)
                face = self._single_face(image, largest, level)
            except FRSError as exc:
                results[index] = {"identity": name, **exc.to_dict()}
                continue
            prepared.append((index, name, self._new_face(face, image, source), metadata, face))
        if prepared:
            batch = [(n, f, m) for _, n, f, m, _ in prepared]
            if expiry is None:
                added = store.add_faces(batch, pack=self.analyzer.pack)
            else:
                added = _retention_store(store).add_faces(batch, pack=self.analyzer.pack, expires_at=expiry)
            for (index, _, _, _, face), result in zip(prepared, added, strict=True):
                results[index] = add_result_dict(result, face)
        return results

    def identify_filter_level(self, quality_filter: str | None = None) -> FilterLevel:
        """The quality filter identify applies: the request's, else ``FRS_IDENTIFY_QUALITY_FILTER``."""
        return _filter_level(quality_filter, self.settings.identify_quality_filter)

    def identify_operating_point(
        self, gallery_faces: int, *, threshold: float | None = None, target_fpir: float | None = None
    ) -> OperatingPoint:
        """The operating point identify uses for a gallery of ``gallery_faces`` enrolled faces (camera clips
        decide their tracks at the same one)."""
        target = self.settings.target_fpir if target_fpir is None else target_fpir
        analyzer = self.analyzer
        return identify_point(
            threshold=check_threshold(threshold),
            configured=self.settings.match_threshold,
            target_fpir=check_rate(target, "target_fpir"),
            gallery_faces=gallery_faces,
            calibration=analyzer.calibration,
            pack_threshold=analyzer.manifest.recognizer.match_threshold,
        )

    def identify(
        self,
        gallery: str,
        image: bytes,
        *,
        top_k: int = 5,
        threshold: float | None = None,
        target_fpir: float | None = None,
        quality_filter: str | None = None,
        fallback: bool = True,
    ) -> dict[str, Any]:
        """Every face of ``image`` with its best identities, named when the best passes the operating point
        for this gallery's size (``reason`` says why not) and the face passes the quality filter.
        ``fallback=False``: no detection fallback (camera frames, which mostly hold nobody)."""
        top_k = validate_top_k(top_k)
        explicit = check_threshold(threshold)
        target = check_rate(self.settings.target_fpir if target_fpir is None else target_fpir, "target_fpir")
        level = self.identify_filter_level(quality_filter)
        store = self.gallery(gallery)
        analyzer = self.analyzer
        analysis = analyzer.analyze(image, fallback=fallback)
        gallery_faces = store.face_count()
        point = self.identify_operating_point(gallery_faces, threshold=explicit, target_fpir=target)
        faces_out: list[dict[str, Any]] = []
        if analysis.faces:
            matrix = np.stack([f.embedding for f in analysis.faces if f.embedding is not None])
            # Expired identities are never named, from the moment they expire (before the purge runs).
            results = live_search(store, matrix, analyzer.pack, top_k)
            for face, candidates in zip(analysis.faces, results, strict=True):
                decision = decide(
                    [(c.name, c.similarity) for c in candidates],
                    point,
                    quality_issues=analyzer.quality_refusals(face, level),
                )
                best = candidates[0] if candidates else None
                faces_out.append(
                    {
                        "bbox": _box(face),
                        "det_score": round(face.score, 4),
                        "quality": face.quality.to_dict(),
                        "identity": decision.identity,
                        "similarity": round(best.similarity, 4) if best else None,
                        "reason": REASONS[decision.reason],
                        "candidates": [
                            {"identity": c.name, "similarity": round(c.similarity, 4)} for c in candidates
                        ],
                    }
                )
        return {
            "image": analysis.image_dict(),
            "threshold": round(point.threshold, 4),
            "operating_point": identify_point_dict(point, gallery_faces, level),
            "faces": faces_out,
        }

    def get(self, gallery: str, name: str) -> dict[str, Any]:
        return identity_dict(self.gallery(gallery).get(name), with_faces=True)

    def list_identities(
        self, gallery: str, *, prefix: str | None = None, page_size: int = 100, page_token: str | None = None
    ) -> dict[str, Any]:
        page = self.gallery(gallery).list(prefix=prefix, page_size=page_size, page_token=page_token)
        return {
            "identities": [identity_dict(i) for i in page.identities],
            "next_page_token": page.next_page_token,
        }

    def delete(self, gallery: str, name: str) -> dict[str, Any]:
        removed = self.gallery(gallery).delete_identity(name)
        return {"identity": name, "faces_removed": len(removed), "face_ids": removed}

    def delete_face(self, gallery: str, face_id: str) -> dict[str, Any]:
        record = self.gallery(gallery).delete_face(face_id)
        return {"face_id": record.face_id, "identity": record.identity}

    # -- search by face and identity edits ---------------------------------------------------------------

    def search_face(
        self,
        gallery: str,
        face_id: str,
        *,
        top_k: int = 5,
        threshold: float | None = None,
        target_fpir: float | None = None,
    ) -> dict[str, Any]:
        """The identities closest to an enrolled face, other than its own, decided like identify decides a
        probe: at the operating point for this gallery's size (``identity`` is null below it)."""
        top_k = validate_top_k(top_k)
        if top_k > MAX_TOP_K - 1:
            raise FRSError(
                "bad_request", f"top_k must be an integer from 1 to {MAX_TOP_K - 1} for search_face"
            )
        explicit = check_threshold(threshold)
        target = check_rate(self.settings.target_fpir if target_fpir is None else target_fpir, "target_fpir")
        store = self.gallery(gallery)
        stored = store.face(validate_face_id(face_id))
        own = stored.record.identity
        gallery_faces = store.face_count()
        point = self.identify_operating_point(gallery_faces, threshold=explicit, target_fpir=target)
        found = live_search(store, stored.embedding.reshape(1, -1), self.analyzer.pack, top_k + 1)[0]
        candidates = [c for c in found if c.name != own][:top_k]
        decision = decide([(c.name, c.similarity) for c in candidates], point)
        best = candidates[0] if candidates else None
        return {
            "face_id": stored.record.face_id,
            "enrolled_as": own,
            "threshold": round(point.threshold, 4),
            "operating_point": identify_point_dict(point, gallery_faces, "none"),
            "identity": decision.identity,
            "similarity": round(best.similarity, 4) if best else None,
            "reason": REASONS[decision.reason],
            "candidates": [{"identity": c.name, "similarity": round(c.similarity, 4)} for c in candidates],
        }

    def rename(self, gallery: str, name: str, new_name: str) -> dict[str, Any]:
        identity = self.gallery(gallery).rename_identity(name, new_name)
        return {**identity_dict(identity), "renamed_from": name}

    def merge(self, gallery: str, name: str, sources: list[str]) -> dict[str, Any]:
        store = self.gallery(gallery)
        names = validate_merge_sources(validate_identity_name(name), sources)
        result = store.merge_identities(name, names)
        return {
            **identity_dict(result.identity),
            "merged": names,
            "faces_moved": result.faces_moved,
            "duplicates_dropped": result.duplicates_dropped,
        }

    def move_face(self, gallery: str, face_id: str, name: str) -> dict[str, Any]:
        result = self.gallery(gallery).move_face(face_id, name)
        return {
            "face_id": result.face.face_id,
            "identity": result.face.identity,
            "previous_identity": result.previous_identity,
        }

    def update_metadata(
        self,
        gallery: str,
        name: str,
        metadata: dict[str, Any] | None = None,
        *,
        mode: str = "merge",
        expires_at: object = KEEP,
    ) -> dict[str, Any]:
        """Change an identity's metadata (as ``mode`` says), its expiry, or both, in one write.

        ``expires_at``: an ISO 8601 time sets it (validated as add validates it; a past time expires the
        identity at once), None clears it, KEEP (absent) leaves it. Everything is checked before the write.
        """
        store = self.gallery(gallery)
        checked: MetadataMode = "merge" if validate_metadata_mode(mode) == "merge" else "replace"
        patch = None if metadata is None else validate_metadata(metadata)
        if expires_at is KEEP:
            if patch is None:
                raise FRSError(
                    "bad_request", "update_metadata needs metadata, expires_at (null clears it), or both"
                )
            return identity_dict(store.update_metadata(name, patch, checked))
        expiry = parse_expiry(expires_at)
        identity = _retention_store(store).update_metadata(name, patch, checked, expires_at=expiry)
        return identity_dict(identity)

    def update(
        self, gallery: str, *, retention_days: float | None = None, clear: bool = False
    ) -> dict[str, Any]:
        """Set (or, with ``clear``, remove) the gallery's default retention for identities created later."""
        store = _retention_store(self.gallery(gallery))
        days = None if clear else check_retention_days(retention_days)
        if days is None and not clear:
            raise FRSError("bad_request", "update needs retention_days (or clear_retention=true)")
        store.set_retention(days)
        return {"gallery": gallery, "retention_days": store.retention_days()}

    def purge(self, gallery: str | None = None) -> dict[str, Any]:
        """Delete every expired identity of ``gallery`` (every gallery for None or "*"), with the same
        write path as delete: for a file gallery secure_delete and a compacted upload (nothing left in free
        pages); for PostgreSQL one transaction of DELETEs (dead tuples until VACUUM: see the README)."""
        from frs.gallery.factory import list_galleries

        names = list_galleries(self.settings) if gallery in (None, "*") else [gallery]
        now = now_iso()
        purged = []
        for name in names:
            store: Any = self.gallery(name)
            if not getattr(store, "supports_retention", False):
                continue
            for identity, face_ids in store.purge_expired(now):
                purged.append({"gallery": name, "identity": identity, "face_ids": face_ids})
        return {"purged": purged, "galleries": len(names), "at": now}

    def export_identity(self, gallery: str, name: str) -> dict[str, Any]:
        """Everything FRS holds about one person, for a data-subject request: the identity (metadata,
        expiry), its face records (box, detector score, source image sha256, time; never the embedding) and
        every audit record naming it (when FRS_AUDIT_URI is set)."""
        identity = identity_dict(self.gallery(gallery).get(name), with_faces=True)
        records: list[dict[str, Any]] = []
        if self.settings.audit_uri:
            from frs.audit.reader import AuditFilter, read_records

            records = [
                r
                for r in read_records(self.settings, AuditFilter(identity=name))
                if r.get("gallery") == gallery
            ]
        return {
            "identity": name,
            "gallery": gallery,
            "record": identity,
            "audit": records,
            "audit_trail": self.settings.audit_uri is not None,
            "held": "metadata, face records (box, detector score, source image sha256, time) and one "
            "embedding per face (not exported: a biometric template is not readable data); never photos",
        }
