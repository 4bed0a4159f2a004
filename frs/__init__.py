"""FRS: face recognition as one serverless function.

The package is split by concern: ``packs`` (model manifests and fetching), ``pipeline`` (image decoding,
detection, alignment, embedding), ``gallery`` (identities and their embeddings, storage and sync), ``api``
(Lambda and HTTP adapters) and ``cli``.
"""

__version__ = "0.1.0"
