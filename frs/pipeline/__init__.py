"""The face pipeline: decode -> detect (SCRFD) -> align (5 points) -> embed (batched) -> L2-normalise."""
