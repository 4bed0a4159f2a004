"""Convert a small convolutional TFLite graph to ONNX, once, at fetch time.

MediaPipe publishes its face-mesh landmark model only as TFLite (inside the ``mediapipe`` wheel). FRS runs
ONNX, so ``frs models fetch`` rewrites it: TFLite keeps tensors NHWC, the ONNX graph keeps them NCHW (one
Transpose at the input), and float16 weights behind DEQUANTIZE become float32 initializers. Only the operators
that model uses are known (CONV_2D, DEPTHWISE_CONV_2D, PRELU, ADD, MAX_POOL_2D, PAD, DEQUANTIZE, RESHAPE);
anything else is refused by name rather than converted wrongly. A test checks the converted graph against
known landmarks on a real photo.

Needs the ``tflite`` package (fetch tooling only, pinned in requirements-dev.txt; never in the image).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from frs.errors import FRSError

# TFLite enum values (tflite/schema.fbs): they are stable across releases.
_PADDING_SAME = 0
_ACTIVATIONS = {0: None, 1: "Relu", 3: "Relu6"}
_TENSOR_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 9: np.int8, 3: np.uint8, 4: np.int64}


def _builtin_names() -> dict[int, str]:
    import tflite

    return {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}


class _Converter:
    def __init__(self, data: bytes) -> None:
        import tflite

        self.tfl = tflite
        self.model = tflite.Model.GetRootAsModel(data, 0)
        if self.model.SubgraphsLength() != 1:
            raise FRSError("model_unavailable", "only single-subgraph TFLite models are converted")
        self.graph = self.model.Subgraphs(0)
        self.names = _builtin_names()
        self.constants: dict[int, np.ndarray] = {}
        self.nodes: list[Any] = []
        self.initializers: dict[str, np.ndarray] = {}

    def tensor_name(self, index: int) -> str:
        return f"t{index}"

    def buffer(self, index: int) -> np.ndarray | None:
        tensor = self.graph.Tensors(index)
        raw = self.model.Buffers(tensor.Buffer()).DataAsNumpy()
        if isinstance(raw, int) or raw is None or len(raw) == 0:
            return None
        dtype = _TENSOR_TYPES.get(tensor.Type())
        if dtype is None:
            raise FRSError("model_unavailable", f"TFLite tensor type {tensor.Type()} is not converted")
        shape = tuple(int(d) for d in tensor.ShapeAsNumpy())
        return np.frombuffer(raw.tobytes(), dtype=dtype).reshape(shape)

    def constant(self, index: int) -> np.ndarray:
        if index in self.constants:
            return self.constants[index]
        value = self.buffer(index)
        if value is None:
            raise FRSError("model_unavailable", f"TFLite tensor {index} was expected to be a constant")
        return value

    def add_initializer(self, name: str, value: np.ndarray) -> str:
        self.initializers[name] = value
        return name

    def shape(self, index: int) -> tuple[int, ...]:
        return tuple(int(d) for d in self.graph.Tensors(index).ShapeAsNumpy())

    def pads(
        self,
        index: int,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilations: tuple[int, int],
        padding: int,
    ) -> list[int]:
        """Explicit ONNX pads for TFLite's SAME or VALID padding of NHWC tensor ``index`` (SAME puts the odd
        pixel at the end, as TensorFlow does)."""
        if padding != _PADDING_SAME:
            return [0, 0, 0, 0]
        begin, end = [], []
        for side, k, s, d in zip(self.shape(index)[1:3], kernel, strides, dilations, strict=True):
            out = -(-side // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - side, 0)
            begin.append(total // 2)
            end.append(total - total // 2)
        return begin + end

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))

    def convert(self) -> Any:
        import onnx
        from onnx import helper, numpy_helper

        graph = self.graph
        inputs = [graph.Inputs(i) for i in range(graph.InputsLength())]
        outputs = [graph.Outputs(i) for i in range(graph.OutputsLength())]
        for index in inputs:
            self.node(
                "Transpose", [f"{self.tensor_name(index)}_nhwc"], [self.tensor_name(index)], perm=[0, 3, 1, 2]
            )
        for i in range(graph.OperatorsLength()):
            self.operator(graph.Operators(i))
        onnx_inputs = []
        for index in inputs:
            tensor = graph.Tensors(index)
            shape = [int(d) for d in tensor.ShapeAsNumpy()]
            onnx_inputs.append(
                helper.make_tensor_value_info(
                    f"{self.tensor_name(index)}_nhwc", onnx.TensorProto.FLOAT, ["batch", *shape[1:]]
                )
            )
        onnx_outputs = []
        for index in outputs:
            name = self.graph.Tensors(index).Name().decode()
            nhwc = f"{self.tensor_name(index)}_out_nhwc"
            self.node("Transpose", [self.tensor_name(index)], [nhwc], perm=[0, 2, 3, 1])
            self.node("Flatten", [nhwc], [name], axis=1)
            onnx_outputs.append(
                helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", f"{name}_size"])
            )
        onnx_graph = helper.make_graph(
            self.nodes,
            "tflite",
            onnx_inputs,
            onnx_outputs,
            [numpy_helper.from_array(v, k) for k, v in self.initializers.items()],
        )
        model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    def operator(self, op: Any) -> None:
        code = self.model.OperatorCodes(op.OpcodeIndex())
        name = self.names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
        ins = [int(op.Inputs(i)) for i in range(op.InputsLength())]
        outs = [int(op.Outputs(i)) for i in range(op.OutputsLength())]
        handler = getattr(self, f"op_{name.lower()}", None)
        if handler is None:
            raise FRSError("model_unavailable", f"TFLite operator {name} is not converted")
        handler(op, ins, outs)

    def op_dequantize(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self.constants[outs[0]] = self.constant(ins[0]).astype(np.float32)

    def _options(self, op: Any, kind: Any) -> Any:
        options = kind()
        table = op.BuiltinOptions()
        options.Init(table.Bytes, table.Pos)
        return options

    def _activation(self, result: str, fused: int) -> str:
        if fused not in _ACTIVATIONS:
            raise FRSError("model_unavailable", f"fused activation {fused} is not converted")
        act = _ACTIVATIONS[fused]
        if act is None:
            return result
        if act == "Relu":
            self.node("Relu", [f"{result}_pre"], [result])
        else:
            low = self.add_initializer(f"{result}_lo", np.array(0.0, np.float32))
            high = self.add_initializer(f"{result}_hi", np.array(6.0, np.float32))
            self.node("Clip", [f"{result}_pre", low, high], [result])
        return f"{result}_pre"

    def _conv(self, op: Any, ins: list[int], outs: list[int], depthwise: bool) -> None:
        tfl = self.tfl
        options = self._options(op, tfl.DepthwiseConv2DOptions if depthwise else tfl.Conv2DOptions)
        weight = self.constant(ins[1]).astype(np.float32)
        if depthwise:  # [1, kh, kw, C * multiplier] -> [C * multiplier, 1, kh, kw]
            if options.DepthMultiplier() not in (0, 1):
                raise FRSError("model_unavailable", "depthwise multiplier > 1 is not converted")
            onnx_weight = weight.transpose(3, 0, 1, 2)
            group = onnx_weight.shape[0]
        else:  # [O, kh, kw, I] -> [O, I, kh, kw]
            onnx_weight = weight.transpose(0, 3, 1, 2)
            group = 1
        out = self.tensor_name(outs[0])
        target = self._activation(out, options.FusedActivationFunction())
        inputs = [
            self.tensor_name(ins[0]),
            self.add_initializer(f"{out}_w", np.ascontiguousarray(onnx_weight)),
        ]
        if len(ins) > 2 and ins[2] >= 0:
            inputs.append(self.add_initializer(f"{out}_b", self.constant(ins[2]).astype(np.float32)))
        dilations = (options.DilationHFactor() or 1, options.DilationWFactor() or 1)
        strides = (options.StrideH(), options.StrideW())
        kernel = (int(onnx_weight.shape[2]), int(onnx_weight.shape[3]))
        self.node(
            "Conv",
            inputs,
            [target],
            kernel_shape=list(kernel),
            strides=list(strides),
            dilations=list(dilations),
            group=group,
            pads=self.pads(ins[0], kernel, strides, dilations, options.Padding()),
        )

    def op_conv_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._conv(op, ins, outs, depthwise=False)

    def op_depthwise_conv_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        self._conv(op, ins, outs, depthwise=True)

    def op_prelu(self, op: Any, ins: list[int], outs: list[int]) -> None:
        alpha = self.constant(ins[1]).astype(np.float32)  # [1, 1, C] (NHWC broadcast) -> [C, 1, 1]
        if alpha.ndim != 3 or alpha.shape[0] != 1 or alpha.shape[1] != 1:
            raise FRSError("model_unavailable", f"PRELU alpha of shape {alpha.shape} is not converted")
        out = self.tensor_name(outs[0])
        slope = self.add_initializer(f"{out}_a", alpha.reshape(-1, 1, 1))
        self.node("PRelu", [self.tensor_name(ins[0]), slope], [out])

    def op_add(self, op: Any, ins: list[int], outs: list[int]) -> None:
        options = self._options(op, self.tfl.AddOptions)
        out = self.tensor_name(outs[0])
        target = self._activation(out, options.FusedActivationFunction())
        self.node("Add", [self.tensor_name(ins[0]), self.tensor_name(ins[1])], [target])

    def op_max_pool_2d(self, op: Any, ins: list[int], outs: list[int]) -> None:
        options = self._options(op, self.tfl.Pool2DOptions)
        out = self.tensor_name(outs[0])
        target = self._activation(out, options.FusedActivationFunction())
        kernel = (options.FilterHeight(), options.FilterWidth())
        strides = (options.StrideH(), options.StrideW())
        self.node(
            "MaxPool",
            [self.tensor_name(ins[0])],
            [target],
            kernel_shape=list(kernel),
            strides=list(strides),
            pads=self.pads(ins[0], kernel, strides, (1, 1), options.Padding()),
        )

    def op_pad(self, op: Any, ins: list[int], outs: list[int]) -> None:
        pads = self.constant(ins[1]).astype(np.int64)  # [[n0, n1], [h0, h1], [w0, w1], [c0, c1]] in NHWC
        nchw = pads[[0, 3, 1, 2]]
        out = self.tensor_name(outs[0])
        spec = self.add_initializer(f"{out}_p", np.concatenate([nchw[:, 0], nchw[:, 1]]))
        self.node("Pad", [self.tensor_name(ins[0]), spec], [out])


def convert_tflite(data: bytes) -> bytes:
    """The ONNX serialisation of a TFLite flatbuffer: the same NHWC float input (batch free), each 4-D output
    flattened per batch row in TFLite's NHWC order."""
    if data[4:8] != b"TFL3":  # the flatbuffer file identifier of every TFLite model
        raise FRSError("model_unavailable", "not a TFLite model (no TFL3 file identifier)")
    return bytes(_Converter(data).convert().SerializeToString())
