"""The operations FRS offers, over the pipeline and a gallery: what the CLI and the Lambda handler call.

Each method takes plain values (image bytes, names, options), validates them, and returns a JSON-ready dict or
raises :class:`FRSError`. Nothing here knows about HTTP or Lambda events.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from frs.config import Settings
from frs.errors import FRSError
from frs.gallery.types import FaceRecord, Gallery, Identity, NewFace
from frs.gallery.validation import validate_identity_name
from frs.pipeline.analyzer import AnalyzedFace, FaceAnalyzer, load_analyzer

MAX_TOP_K = 100


def _validate_top_k(top_k: Any) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise FRSError("bad_request", f"top_k must be an integer from 1 to {MAX_TOP_K}")
    return top_k


def _validate_threshold(threshold: Any, default: float) -> float:
    if threshold is None:
        return default
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not -1.0 <= threshold <= 1.0:
        raise FRSError("bad_request", "threshold must be a number from -1 to 1")
    return float(threshold)


def face_record_dict(face: FaceRecord) -> dict[str, Any]:
    return {
        "face_id": face.face_id,
        "bbox": [round(v, 1) for v in face.bbox],
        "det_score": round(face.det_score, 4),
        "image_sha256": face.image_sha256,
        "created_at": face.created_at,
    }


def identity_dict(identity: Identity, *, with_faces: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": identity.name,
        "metadata": identity.metadata,
        "face_count": identity.face_count,
        "created_at": identity.created_at,
        "updated_at": identity.updated_at,
    }
    if with_faces:
        body["faces"] = [face_record_dict(f) for f in identity.faces]
    return body


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

    def verify_images(self, image_a: bytes, image_b: bytes, threshold: float | None = None) -> dict[str, Any]:
        limit = _validate_threshold(threshold, self.analyzer.match_threshold)
        face_a = self._largest_face(image_a, "image_a")
        face_b = self._largest_face(image_b, "image_b")
        assert face_a.embedding is not None and face_b.embedding is not None
        similarity = float(np.dot(face_a.embedding, face_b.embedding))
        return {"similarity": round(similarity, 4), "match": similarity >= limit, "threshold": limit}

    # -- gallery operations ----------------------------------------------------------------------------

    def _single_face(self, image: bytes, largest: bool) -> AnalyzedFace:
        faces = self.analyzer.analyze(image).faces
        if not faces:
            raise FRSError("no_face", "no face found in the image")
        if len(faces) > 1 and not largest:
            raise FRSError(
                "multiple_faces",
                f"{len(faces)} faces found; send a photo with one face or set largest=true",
                count=len(faces),
            )
        return max(faces, key=lambda f: f.area)

    def add(
        self,
        gallery: str,
        name: str,
        image: bytes,
        *,
        metadata: dict[str, Any] | None = None,
        largest: bool = False,
    ) -> dict[str, Any]:
        store = self.gallery(gallery)  # validates the gallery name before any model work
        validate_identity_name(name)
        face = self._single_face(image, largest)
        assert face.embedding is not None
        new_face = NewFace(
            embedding=face.embedding,
            det_score=face.score,
            bbox=face.bbox,
            image_sha256=hashlib.sha256(image).hexdigest(),
        )
        result = store.add_face(name, new_face, pack=self.analyzer.pack, metadata=metadata)
        return {
            "face_id": result.face_id,
            "identity": result.identity,
            "bbox": [round(v, 1) for v in face.bbox],
            "face_count": result.face_count,
            "created": result.created,
        }

    def identify(
        self, gallery: str, image: bytes, *, top_k: int = 5, threshold: float | None = None
    ) -> dict[str, Any]:
        top_k = _validate_top_k(top_k)
        limit = _validate_threshold(threshold, self.analyzer.match_threshold)
        store = self.gallery(gallery)
        analysis = self.analyzer.analyze(image)
        faces_out: list[dict[str, Any]] = []
        if analysis.faces:
            matrix = np.stack([f.embedding for f in analysis.faces if f.embedding is not None])
            results = store.search(matrix, pack=self.analyzer.pack, top_k=top_k)
            for face, candidates in zip(analysis.faces, results, strict=True):
                best = candidates[0] if candidates else None
                known = best is not None and best.similarity >= limit
                faces_out.append(
                    {
                        "bbox": [round(v, 1) for v in face.bbox],
                        "score": round(face.score, 4),
                        "identity": best.name if known and best else None,
                        "similarity": round(best.similarity, 4) if best else None,
                        "candidates": [
                            {"name": c.name, "similarity": round(c.similarity, 4)} for c in candidates
                        ],
                    }
                )
        return {"image": analysis.image_dict(), "threshold": limit, "faces": faces_out}

    def verify_identity(
        self, gallery: str, name: str, image: bytes, *, threshold: float | None = None
    ) -> dict[str, Any]:
        limit = _validate_threshold(threshold, self.analyzer.match_threshold)
        store = self.gallery(gallery)
        store.get(name)  # not_found before spending time on the image
        face = self._largest_face(image, "the image")
        assert face.embedding is not None
        similarity = store.identity_similarity(name, face.embedding, pack=self.analyzer.pack)
        return {
            "name": name,
            "similarity": round(similarity, 4),
            "match": similarity >= limit,
            "threshold": limit,
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
        return {"deleted": name, "faces_removed": removed}

    def delete_face(self, gallery: str, face_id: str) -> dict[str, Any]:
        record = self.gallery(gallery).delete_face(face_id)
        return {"deleted_face": record.face_id, "identity": record.identity}

    def add_many(
        self,
        gallery: str,
        items: list[tuple[str, bytes, dict[str, Any] | None]],
        *,
        largest: bool = False,
    ) -> list[dict[str, Any]]:
        """Enrol many (name, image, metadata) in one gallery write; bad images are reported, not fatal.

        Each result is either an add result or ``{"name", "error": {"code", "message"}}``.
        """
        store = self.gallery(gallery)
        prepared: list[tuple[int, str, NewFace, dict[str, Any] | None, AnalyzedFace]] = []
        results: list[dict[str, Any]] = [{} for _ in items]
        for index, (name, image, metadata) in enumerate(items):
            try:
                validate_identity_name(name)
                face = self._single_face(image, largest)
            except FRSError as exc:
                results[index] = {"name": name, **exc.to_dict()}
                continue
            assert face.embedding is not None
            new_face = NewFace(face.embedding, face.score, face.bbox, hashlib.sha256(image).hexdigest())
            prepared.append((index, name, new_face, metadata, face))
        if prepared:
            added = store.add_faces([(n, f, m) for _, n, f, m, _ in prepared], pack=self.analyzer.pack)
            for (index, _, _, _, face), result in zip(prepared, added, strict=True):
                results[index] = {
                    "face_id": result.face_id,
                    "identity": result.identity,
                    "bbox": [round(v, 1) for v in face.bbox],
                    "face_count": result.face_count,
                    "created": result.created,
                }
        return results
