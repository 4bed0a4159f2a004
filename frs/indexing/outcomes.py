"""What happened to one photo of an index job: the outcome words of the report."""

from __future__ import annotations

ENROLLED = "enrolled"  # its face is in the gallery, added by this job
DUPLICATE = "duplicate"  # the same bytes (sha256) were already enrolled for this identity
NO_FACE = "no_face"
MULTIPLE_FACES = "multiple_faces"
LOW_QUALITY = "low_quality"  # below the quality filter
UNREADABLE = "unreadable"  # missing, empty, not an image, or an identity name FRS refuses
TOO_LARGE = "too_large"  # too many bytes or pixels

OUTCOMES = (ENROLLED, DUPLICATE, NO_FACE, MULTIPLE_FACES, LOW_QUALITY, UNREADABLE, TOO_LARGE)
#: Outcomes that are not failures: the photo's face is in the gallery.
IN_GALLERY = (ENROLLED, DUPLICATE)

#: FRSError code of a refused photo -> its outcome. Codes not here are infrastructure problems (5xx): the
#: batch fails and SQS delivers it again.
BY_ERROR_CODE = {
    "no_face": NO_FACE,
    "multiple_faces": MULTIPLE_FACES,
    "low_quality": LOW_QUALITY,
    "invalid_image": UNREADABLE,
    "not_found": UNREADABLE,
    "bad_request": UNREADABLE,
    "image_too_large": TOO_LARGE,
}
