"""Inference sessions, created once per process and file: the cold-start cache warm invocations reuse.

Detectors run on onnxruntime. A recognizer runs on the engine its manifest names: onnxruntime, or OpenCV's DNN
engine, which runs SFace 1.6-1.8x faster than onnxruntime on the AVX-512 machines measured (same embeddings,
max abs diff ~2e-6), while onnxruntime runs YuNet about 2.5x faster than OpenCV does.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from frs.errors import FRSError

ENGINES = ("onnxruntime", "opencv")


class Session(Protocol):
    """The part of onnxruntime's ``InferenceSession`` the pipeline uses."""

    def get_inputs(self) -> Sequence[Any]: ...

    def get_outputs(self) -> Sequence[Any]: ...

    def run(self, output_names: Sequence[str], feeds: Mapping[str, npt.NDArray[np.float32]]) -> list[Any]: ...


@dataclass(frozen=True)
class Port:
    name: str
    shape: tuple[int | str, ...]


class OpenCvSession:
    """A one-input, one-output model on OpenCV's DNN engine behind the :class:`Session` interface.

    OpenCV infers at the shape it is given, so the batch is always free. A ``cv2.dnn.Net`` is not thread-safe:
    calls take turns.
    """

    def __init__(self, path: Path, threads: int) -> None:
        cv2.setNumThreads(max(1, threads))  # process-wide; the same count onnxruntime gets
        self._net = cv2.dnn.readNet(str(path))
        self._lock = threading.Lock()

    def get_inputs(self) -> list[Port]:
        return [Port("input", ("batch",))]

    def get_outputs(self) -> list[Port]:
        return [Port("output", ("batch",))]

    def run(self, output_names: Sequence[str], feeds: Mapping[str, npt.NDArray[np.float32]]) -> list[Any]:
        (blob,) = feeds.values()
        with self._lock:
            self._net.setInput(blob)
            return [np.asarray(self._net.forward())]


@functools.cache
def create_opencv_session(path: Path, threads: int) -> OpenCvSession:
    _require(path)
    try:
        return OpenCvSession(path, threads)
    except cv2.error as exc:
        raise FRSError("model_unavailable", f"OpenCV cannot load model {path.name}: {exc}") from exc


def load_session(path: Path, threads: int, engine: str) -> Session:
    """A cached session for ``path`` on ``engine`` (one of :data:`ENGINES`)."""
    if engine == "onnxruntime":
        session: Session = create_session(path, threads)
        return session
    if engine == "opencv":
        return create_opencv_session(path, threads)
    raise FRSError("model_unavailable", f"unknown inference engine {engine!r}; known: {', '.join(ENGINES)}")


def _require(path: Path) -> None:
    if not path.is_file():
        raise FRSError(
            "model_unavailable",
            f"model file {path} is missing; run `frs models fetch --pack {path.parent.name}`",
        )


@functools.cache
def create_session(path: Path, threads: int) -> ort.InferenceSession:
    """A CPU session with deliberate options; cached so each model is loaded once per process."""
    _require(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No busy-waiting between calls: the pipeline runs Python, OpenCV and a second model between inferences,
    # and spinning pool threads take the cores from them (1-face detect+embed 70 ms spinning vs 26 ms not,
    # measured on 2 shared cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: ORT's warnings about unused initializers are noise here
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable models
        raise FRSError("model_unavailable", f"cannot load model {path.name}: {exc}") from exc
