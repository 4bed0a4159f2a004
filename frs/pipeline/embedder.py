"""Face recognizer: aligned crops in, L2-normalised embeddings out, many faces per inference call.

A manifest with ``recognizer.flip`` embeds each crop and its mirror image in the same call and averages the
two: a recogniser's left/right asymmetries and part of the alignment noise cancel.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from frs.packs.manifest import RecognizerSpec
from frs.pipeline.preprocess import to_nchw
from frs.pipeline.runtime import Session


class Embedder:
    def __init__(self, session: Session, spec: RecognizerSpec) -> None:
        self.session = session
        self.spec = spec
        model_input = session.get_inputs()[0]
        self.input_name = model_input.name
        # Models exported with a fixed batch of 1 must be fed face by face.
        self.max_batch = 1 if model_input.shape[0] == 1 else 64
        self.output_name = session.get_outputs()[0].name

    def preprocess(self, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """RGB uint8 crops (N, H, W, 3) -> the network's NCHW float input, as the manifest says."""
        return to_nchw(crops, self.spec)

    def embed(self, crops: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        if len(crops) == 0:
            return np.zeros((0, self.spec.dim), dtype=np.float32)
        if self.spec.flip:
            crops = np.concatenate([crops, crops[:, :, ::-1]])
        blob = self.preprocess(crops)
        chunks = [
            np.asarray(
                self.session.run([self.output_name], {self.input_name: blob[i : i + self.max_batch]})[0]
            )
            for i in range(0, len(blob), self.max_batch)
        ]
        vectors = np.concatenate(chunks).astype(np.float32).reshape(len(crops), -1)
        if self.spec.flip:
            vectors = _unit(vectors)
            half = len(vectors) // 2
            vectors = vectors[:half] + vectors[half:]
        return _unit(vectors)


def _unit(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: npt.NDArray[np.float32] = vectors / np.maximum(norms, 1e-12)
    return normalised
