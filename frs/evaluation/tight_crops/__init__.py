"""The synthetic tight-crop suite: frame-filling crops (badge crops, face boxes, aligned crops) cut from a
dataset's photos, and how many of them each system finds (``scripts/tight_crop_check.py``)."""

from frs.evaluation.tight_crops.crops import CROP_KINDS, CropKind
from frs.evaluation.tight_crops.suite import SCHEMA, CropSystem, FoundFace, run_suite, sample_photos

__all__ = ["CROP_KINDS", "SCHEMA", "CropKind", "CropSystem", "FoundFace", "run_suite", "sample_photos"]
