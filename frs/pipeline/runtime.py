"""onnxruntime sessions, created once per process and file: the cold-start cache warm invocations reuse."""

from __future__ import annotations

import functools
from pathlib import Path

import onnxruntime as ort

from frs.errors import FRSError


@functools.cache
def create_session(path: Path, threads: int) -> ort.InferenceSession:
    """A CPU session with deliberate options; cached so each model is loaded once per process."""
    if not path.is_file():
        raise FRSError(
            "model_unavailable",
            f"model file {path} is missing; run `frs models fetch --pack {path.parent.name}`",
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: ORT's warnings about unused initializers are noise here
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
        raise FRSError("model_unavailable", f"cannot load model {path.name}: {exc}") from exc
