#!/usr/bin/python3
"""Generates the tiny ONNX models the engine-onnx unit tests run on ONNX Runtime.

Run with Debian's python (it has python3-onnx): /usr/bin/python3 make_models.py
The .onnx files are committed next to this script; rerun it only when a model must change.
Output is deterministic (fixed producer fields, no random weights).
"""
import os

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17  # newest opset python3-onnx 1.12 knows; ONNX Runtime 1.29 runs it

# Every element type ONNX Runtime's Java API can build an input tensor from (OnnxJavaType),
# keyed by the Open Inference Protocol name the engine maps it to.
ECHO_TYPES = {
    "FP32": TensorProto.FLOAT,
    "FP64": TensorProto.DOUBLE,
    "INT8": TensorProto.INT8,
    "UINT8": TensorProto.UINT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "BOOL": TensorProto.BOOL,
    "FP16": TensorProto.FLOAT16,
    "BF16": TensorProto.BFLOAT16,
    "BYTES": TensorProto.STRING,
}


def save(graph, name, metadata=None):
    model = helper.make_model(graph, producer_name="tollgate-engine-onnx-tests", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    path = os.path.join(HERE, name)
    onnx.save(model, path)
    print("wrote", path)


def echo():
    """One Identity per type: in_<TYPE> -> out_<TYPE>, shape [batch (symbolic), unnamed dynamic dim]."""
    inputs, outputs, nodes = [], [], []
    for oip, onnx_type in ECHO_TYPES.items():
        inputs.append(helper.make_tensor_value_info("in_" + oip, onnx_type, ["batch", None]))
        outputs.append(helper.make_tensor_value_info("out_" + oip, onnx_type, ["batch", None]))
        nodes.append(helper.make_node("Identity", ["in_" + oip], ["out_" + oip], name="echo_" + oip))
    save(helper.make_graph(nodes, "echo", inputs, outputs), "echo.onnx")


def add():
    """sum = a + b, diff = a - b over FP32 [batch, 3]; carries custom metadata like a real plugin model."""
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 3])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 3])
    total = helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", 3])
    diff = helper.make_tensor_value_info("diff", TensorProto.FLOAT, ["batch", 3])
    nodes = [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Sub", ["a", "b"], ["diff"])]
    save(helper.make_graph(nodes, "add", [a, b], [total, diff]), "add.onnx",
         metadata={"labels": "x,y,z", "author": "tollgate tests"})


def string_lookup():
    """Looks strings up inside ONNX Runtime (ai.onnx.ml CategoryMapper), so a test sees the bytes the model
    itself receives and produces, not just what survives a round trip through the Java API:
    text STRING -> index_of_text INT64 (-1 when unknown); index INT64 -> text_of_index STRING ("?" when unknown)."""
    words = ["plain", "h\u00e9llo", "\u4e2d\u6587", "\u20acuro"]  # ASCII, 2-byte, 3-byte UTF-8
    text = helper.make_tensor_value_info("text", TensorProto.STRING, [None])
    index = helper.make_tensor_value_info("index", TensorProto.INT64, [None])
    index_of_text = helper.make_tensor_value_info("index_of_text", TensorProto.INT64, [None])
    text_of_index = helper.make_tensor_value_info("text_of_index", TensorProto.STRING, [None])
    ids = list(range(len(words)))
    nodes = [
        helper.make_node("CategoryMapper", ["text"], ["index_of_text"], domain="ai.onnx.ml",
                         cats_strings=words, cats_int64s=ids, default_int64=-1),
        helper.make_node("CategoryMapper", ["index"], ["text_of_index"], domain="ai.onnx.ml",
                         cats_strings=words, cats_int64s=ids, default_string="?"),
    ]
    model = helper.make_model(helper.make_graph(nodes, "string_lookup", [text, index], [index_of_text, text_of_index]),
                              producer_name="tollgate-engine-onnx-tests", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", 1)])
    onnx.checker.check_model(model)
    path = os.path.join(HERE, "string_lookup.onnx")
    onnx.save(model, path)
    print("wrote", path)


def unsigned_outputs():
    """INT32 x -> Cast to UINT16 / UINT32 / UINT64: unsigned types ORT Java can return but not take."""
    x = helper.make_tensor_value_info("x", TensorProto.INT32, [None])
    outputs, nodes = [], []
    for oip, onnx_type in {"UINT16": TensorProto.UINT16, "UINT32": TensorProto.UINT32,
                           "UINT64": TensorProto.UINT64}.items():
        outputs.append(helper.make_tensor_value_info("as_" + oip, onnx_type, [None]))
        nodes.append(helper.make_node("Cast", ["x"], ["as_" + oip], to=onnx_type))
    save(helper.make_graph(nodes, "unsigned_outputs", [x], outputs), "unsigned_outputs.onnx")


def uint16_input():
    """A UINT16 input, which ORT Java cannot build a tensor for."""
    x = helper.make_tensor_value_info("x", TensorProto.UINT16, [None])
    y = helper.make_tensor_value_info("y", TensorProto.UINT16, [None])
    save(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "uint16_input", [x], [y]),
         "uint16_input.onnx")


def sequence_output():
    """A non-tensor (sequence) output, which has no Open Inference Protocol form."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
    seq = helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, [None])
    save(helper.make_graph([helper.make_node("SequenceConstruct", ["x"], ["seq"])], "sequence_output",
                           [x], [seq]), "sequence_output.onnx")


def unknown_op():
    """A well-formed model using an operator no ONNX Runtime build registers."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="io.tollgate.test")
    model = helper.make_model(helper.make_graph([node], "unknown_op", [x], [y]),
                              producer_name="tollgate-engine-onnx-tests", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET),
                                             helper.make_opsetid("io.tollgate.test", 1)])
    path = os.path.join(HERE, "unknown_op.onnx")
    onnx.save(model, path)  # no check_model: the checker rightly refuses an unknown operator
    print("wrote", path)


if __name__ == "__main__":
    echo()
    add()
    string_lookup()
    unsigned_outputs()
    uint16_input()
    sequence_output()
    unknown_op()
